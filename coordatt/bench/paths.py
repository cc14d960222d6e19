"""The paths coordatt-bench reads and writes, checked before anything is opened or measured.

A FIFO blocks its reader until a writer comes and ``/dev/zero`` never ends, so every file bench
reads is stat-ed first (through symlinks) and refused unless it is a regular file; the output
folder is checked before minutes of measuring, not after.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from ..errors import check_folder, file_kind

# check_folder is errors.check_folder, kept here for bench and eval
__all__ = ["check_folder", "check_output_dir"]

OUTPUT_NAMES = ("results.json", "results.csv", "results.png")


def check_output_dir(path: Path, names: tuple[str, ...] = OUTPUT_NAMES,
                     example: str = "bench_results", flag: str = "--output-dir") -> Path:
    """Raise ValueError when results could not be written into ``path``; creates nothing.

    The folder, or the nearest part of it that exists, must be a writable folder, and any
    of ``names`` (results.json/.csv/.png) already there must be regular files (they are
    replaced).
    """
    if str(path) == "":
        raise ValueError(f"{flag} is empty; name a folder (e.g. {example})")
    path = Path(path)
    existing = path
    while not os.path.lexists(existing) and existing != existing.parent:
        existing = existing.parent
    try:
        mode = os.stat(existing).st_mode
    except OSError as e:  # a dangling symlink, a loop
        raise ValueError(f"{flag} {path}: {existing}: {e.strerror}") from None
    if not stat.S_ISDIR(mode):
        kind = "a regular file" if stat.S_ISREG(mode) else file_kind(mode)
        where = "is" if existing == path else f"is under {existing}, which is"
        raise ValueError(f"{flag} {path} {where} not a folder ({kind})")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise ValueError(f"{flag} {path}: {existing} is not writable")
    if existing == path:
        for name in names:
            target = path / name
            if not os.path.lexists(target):
                continue
            try:
                kind = None if stat.S_ISREG(os.stat(target).st_mode) else \
                    file_kind(os.stat(target).st_mode)
            except OSError:
                kind = "a dangling symlink"
            if kind:
                raise ValueError(f"{flag} {path}: {name} there is {kind}; results "
                                 f"replace it, so move it away first")
    return path
