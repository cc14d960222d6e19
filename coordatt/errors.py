"""The package's own errors: one line each, naming what is wrong and what to do."""

from __future__ import annotations

import argparse
import os
import stat
from pathlib import Path

__all__ = ["CoordattError", "MissingBackend", "ExportError", "PartialExport", "require",
           "check_regular_file", "check_folder", "file_kind", "read_small_text", "path_arg"]


class CoordattError(Exception):
    """Base of coordatt's errors that a CLI reports as one line with exit code 2."""


class MissingBackend(CoordattError, ImportError):
    """An optional backend is not installed; the message says how to install it."""


class ExportError(CoordattError):
    """An export or its verification could not be done."""


class PartialExport(ExportError):
    """Some artifacts of a several-format export could not be made; ``results`` holds the ones
    that were written (each verified, with its sidecar), ``failures`` one line per artifact
    that was not."""

    def __init__(self, results: list, failures: list[str]) -> None:
        super().__init__(f"{len(failures)} of {len(results) + len(failures)} artifacts could "
                         f"not be made: " + "; ".join(failures))
        self.results = results
        self.failures = failures


def require(module: str, extra: str):
    """Import an optional backend, or raise MissingBackend with the install command."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as e:
        raise MissingBackend(
            f"{module} is not installed; run: pip install \"coordatt[{extra}]\""
        ) from e


def file_kind(mode: int) -> str:
    """What a non-regular file is, in words: "a folder", "a FIFO", "a character device"..."""
    for test, kind in ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a FIFO"),
                       (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
                       (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return kind
    return "not a regular file"


def _mode(path: Path, what: str, error: type[Exception]) -> int:
    """``path``'s file type and mode through symlinks, by ``stat`` (nothing is opened)."""
    try:
        return os.stat(path).st_mode
    except FileNotFoundError:
        raise error(f"{what} not found: {path}") from None
    except OSError as e:  # a dangling symlink's loop, a permission denied on the way
        raise error(f"cannot read {what} {path}: {e.strerror or e}") from None


def check_regular_file(path, what: str, error: type[Exception] = ValueError):
    """``path`` as a Path when it is a regular file (a symlink to one counts), else ``error``
    "<what> not found: <path>" or "<what> <path> is not a regular file (a FIFO)". Checked by
    ``stat`` before anything opens it: a FIFO or a device would block or never end a read."""
    path = Path(path)
    mode = _mode(path, what, error)
    if not stat.S_ISREG(mode):
        kind = file_kind(mode)
        detail = "" if kind == "not a regular file" else f" ({kind})"
        raise error(f"{what} {path} is not a regular file{detail}")
    return path


def check_folder(path, what: str, error: type[Exception] = ValueError):
    """``path`` as a Path when it is a folder (a symlink to one counts), else ``error``
    "<what> not found: <path>" or "<what> <path> is not a folder (a regular file)"."""
    path = Path(path)
    mode = _mode(path, what, error)
    if not stat.S_ISDIR(mode):
        kind = "a regular file" if stat.S_ISREG(mode) else file_kind(mode)
        raise error(f"{what} {path} is not a folder ({kind})")
    return path


def read_small_text(path, what: str, max_bytes: int) -> str:
    """The UTF-8 text (a BOM allowed) of a small regular file such as a labels file; ValueError
    "<what> <path> is larger than N MB", "... is not UTF-8 (byte i)" or "cannot read ...". The
    file type is checked first (check_regular_file), its size before it is read."""
    path = check_regular_file(path, what)
    try:
        if path.stat().st_size > max_bytes:
            raise ValueError(f"{what} {path} is larger than {max_bytes >> 20} MB")
        return path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise ValueError(f"{what} {path} is not UTF-8 (byte {e.start})") from None
    except OSError as e:
        raise ValueError(f"cannot read {what} {path}: {e.strerror or e}") from None


def path_arg(text: str) -> Path:
    """argparse ``type`` of a path flag: an empty value is refused, not read as the current
    folder (``Path("")`` is ``.``, so ``--output-dir ""`` would write into it unasked)."""
    if not text.strip():
        raise argparse.ArgumentTypeError('empty; name a file or folder ("." for the current '
                                         'folder)')
    return Path(text)
