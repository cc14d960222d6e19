"""The output folder of an export: created (and removed again on failure), locked while files
are replaced in it, and cleared of the temporaries that killed exports left behind.

Every temporary an export writes there carries its process id (``.tmp-<pid>-<name>``,
``.old-<pid>-<name>``, ``.coordatt-probe-<pid>-*``), so a later run can tell a dead process's
leftover from the files of one still running, which are never touched.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import stat
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ..errors import ExportError, file_kind

try:
    import fcntl
except ImportError:  # Windows: no advisory locks; the commit re-check still runs
    fcntl = None

__all__ = ["check_output_dir", "remove_empty", "locked", "remove_stale_temporaries",
           "signals_deferred", "alive",
           "LOCK_NAME", "LOCK_TIMEOUT_S"]

LOCK_NAME = ".coordatt-export.lock"
# an export holds the lock only to re-check and rename its files (well under a second), so a
# longer wait means a stuck process: fail rather than wait for ever
LOCK_TIMEOUT_S = 60.0
_OURS = re.compile(r"^\.(?:tmp|old)-(\d+)-.+|^\.coordatt-probe-(\d+)-.+")


def check_output_dir(folder: Path) -> list[Path]:
    """Create ``folder`` if needed and check it is writable; returns the folders it created
    (deepest last), which a failed export removes again."""
    missing = [p for p in [folder, *folder.parents] if not os.path.lexists(p)][::-1]
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=f".coordatt-probe-{os.getpid()}-"):
            pass
    except OSError as e:
        remove_empty(missing)
        raise ExportError(_not_writable(folder, e)) from None
    return missing


def _not_writable(folder: Path, error: OSError) -> str:
    """Why ``folder`` cannot be written, naming the part that is not a folder if one is not."""
    existing = next((p for p in [folder, *folder.parents] if os.path.lexists(p)), None)
    try:
        mode = os.stat(existing).st_mode if existing is not None else None
    except OSError:
        mode = None  # a dangling symlink: the OSError says it
    if mode is not None and not stat.S_ISDIR(mode):
        kind = "a regular file" if stat.S_ISREG(mode) else file_kind(mode)
        where = "it is" if existing == folder else f"it is under {existing}, which is"
        return f"cannot write to output folder {folder}: {where} not a folder ({kind})"
    return f"cannot write to output folder {folder}: {error.strerror or error}"


def remove_empty(folders: list[Path]) -> None:
    """Remove the folders an export created (deepest last in ``folders``) while they are empty."""
    for folder in reversed(folders):
        try:
            folder.rmdir()
        except OSError:
            return  # not empty (or gone): leave it and its parents


def alive(pid: int) -> bool:
    """Whether process ``pid`` may still be writing (this process counts: a thread may be)."""
    if pid == os.getpid():
        return True  # another export in this process (a thread) may be writing it
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # exists, owned by someone else
    return True


def remove_stale_temporaries(folder: Path) -> list[str]:
    """Delete the temporaries of exports whose process is gone; returns their names."""
    removed = []
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError:
        return removed
    for entry in entries:
        found = _OURS.match(entry.name)
        if not found or alive(int(found.group(1) or found.group(2))):
            continue
        try:
            if entry.is_dir(follow_symlinks=False):
                shutil.rmtree(entry.path)
            else:
                os.unlink(entry.path)
            removed.append(entry.name)
        except FileNotFoundError:
            pass  # another run removed it first
        except OSError as e:
            raise ExportError(f"cannot remove the stale temporary {entry.path} of an "
                              f"interrupted export: {e.strerror or e}") from None
    return removed


@contextmanager
def locked(folder: Path, timeout: float | None = None) -> Iterator[None]:
    """Hold ``<folder>/.coordatt-export.lock`` (flock): one export at a time checks and replaces
    files in ``folder``. ExportError after ``timeout`` seconds (default LOCK_TIMEOUT_S). The
    lock file is removed on release; a killed holder's lock is freed by the kernel."""
    if fcntl is None:
        yield
        return
    path = folder / LOCK_NAME
    timeout = LOCK_TIMEOUT_S if timeout is None else timeout
    deadline = time.monotonic() + timeout
    while True:
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o666)
        except OSError as e:
            raise ExportError(f"cannot lock output folder {folder}: {e.strerror or e}") from None
        try:
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise ExportError(
                            f"another export has been writing into {folder} for more than "
                            f"{timeout:.0f} s (it holds {LOCK_NAME}); try again when it has "
                            f"finished") from None
                    time.sleep(0.02)
            # the holder before us may have removed the file: lock the one at the path
            mine = os.fstat(fd)
            try:
                now = os.stat(path, follow_symlinks=False)
            except FileNotFoundError:
                now = None
        except BaseException:
            os.close(fd)
            raise
        if now is not None and (now.st_dev, now.st_ino) == (mine.st_dev, mine.st_ino):
            break
        os.close(fd)
    try:
        yield
    finally:
        try:
            os.unlink(path)
        except OSError:
            pass
        os.close(fd)


@contextmanager
def signals_deferred() -> Iterator[None]:
    """Hold SIGINT and SIGTERM back for a few renames (delivered right after): an interrupt
    between a sidecar's rename and its artifact's would leave a pair that disagree."""
    if not hasattr(signal, "pthread_sigmask") or threading.current_thread() is not \
            threading.main_thread():
        yield
        return
    held = {signal.SIGINT, signal.SIGTERM}
    before = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, before)
