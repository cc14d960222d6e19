"""Putting an export's files in place (artifact, check file, sidecar) as one crash-consistent
step, and finishing a step that a killed export left half done.

Each file is first written whole as a temporary beside its final name (``.tmp-<pid>-...``) and
flushed to disk. Then a journal, ``.coordatt-commit-<pid>-<artifact>.json``, records the renames
with each file's sha256; once it is in place the export is decided (a redo log, as journaling
file systems and databases keep one). The renames follow in order, the artifact first and the
sidecar last (the sidecar is the record that makes the pair ours), and the journal is removed.

SIGINT and SIGTERM are held back across the renames (output_dir.signals_deferred); a SIGKILL or
a power cut can still stop the process between two of them. That leaves the journal, and the
next export into the folder, under the folder's lock, redoes the remaining renames from the
temporaries the journal names and says so (``recover``). A process killed before its journal
was in place moved nothing: its temporaries are removed by the next run and the files in place
are as they were.
"""

from __future__ import annotations

import json
import os
import re
import sys
import time
from pathlib import Path

from ..errors import ExportError
from .output_dir import alive
from .sidecar import replace_path, sha256_path

__all__ = ["commit", "recover", "JOURNAL_PREFIX", "PAUSE_ENV"]

JOURNAL_PREFIX = ".coordatt-commit-"
_JOURNAL = re.compile(rf"^{re.escape(JOURNAL_PREFIX)}(\d+)-.+\.json$")
_SCHEMA = "coordatt.commit/1"
# tests only: stop at this step ("prepared", "journal", then each move's final name) so that a
# test can SIGKILL the process there; never set in normal use
PAUSE_ENV = "COORDATT_TEST_PAUSE_AT"


def _pause(step: str) -> None:
    if os.environ.get(PAUSE_ENV) == step:
        print(f"paused at {step}", file=sys.stderr, flush=True)
        time.sleep(600)


def _fsync(path: Path) -> None:
    """Flush a file, or every file of a directory (an .mlpackage), and the folder holding it."""
    files = [p for p in path.rglob("*") if p.is_file()] if path.is_dir() else [path]
    for file in files:
        fd = os.open(file, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    _fsync_folder(path.parent)


def _fsync_folder(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return  # a platform without directory handles (Windows): renames are what it has
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def journal_path(artifact: Path) -> Path:
    return artifact.with_name(f"{JOURNAL_PREFIX}{os.getpid()}-{artifact.name}.json")


def commit(moves: list[tuple[Path, Path]]) -> None:
    """Move each finished temporary onto its final name, in order, as one step that a crash
    cannot leave half done (the module's docstring says how). ``moves`` are (temporary, final)
    pairs in one folder, the artifact's first and the sidecar's last. The caller holds the
    folder's lock and defers signals."""
    folder = moves[0][1].parent
    if any(p.parent.absolute() != folder.absolute() for move in moves for p in move):
        raise ValueError("commit moves files within one folder only")
    entries = []
    for src, dst in moves:
        _fsync(src)
        # "before": what the move replaces, so that a recovery never replaces a file that
        # someone changed after the crash
        entries.append({"from": src.name, "to": dst.name, "sha256": sha256_path(src)[0],
                        "before": _state(dst)})
    _pause("prepared")
    journal = journal_path(moves[0][1])
    tmp = journal.with_name(f".tmp-{os.getpid()}-{journal.name}")
    with open(tmp, "w") as f:
        json.dump({"schema": _SCHEMA, "pid": os.getpid(), "moves": entries}, f, indent=2)
        f.write("\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, journal)  # the decision: from here the export is made, even if killed
    _fsync_folder(folder)
    _pause("journal")
    try:
        for src, dst in moves:
            replace_path(src, dst)
            _pause(dst.name)
    except OSError as e:  # a rename in one folder hardly fails; if it does, say what is left
        raise ExportError(f"cannot move {src.name} onto {dst}: {e.strerror or e}; the files "
                          f"of {moves[0][1].name} may disagree: export it again with "
                          f"--overwrite") from None
    _fsync_folder(folder)
    journal.unlink()


def _read_journal(path: Path) -> list[dict] | None:
    try:
        doc = json.loads(path.read_text())
        moves = doc["moves"]
        ok = doc.get("schema") == _SCHEMA and isinstance(moves, list) and all(
            isinstance(m, dict) and all(isinstance(m.get(k), str) for k in ("from", "to",
                                                                            "sha256"))
            and (m.get("before") is None or isinstance(m["before"], str))
            and os.path.basename(m["from"]) == m["from"] and m["from"].startswith(".tmp-")
            and os.path.basename(m["to"]) == m["to"] and m["to"] not in ("", ".", "..")
            for m in moves)
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return moves if ok else None


def _state(path: Path) -> str | None:
    """The sha256 of what is at ``path`` (None: nothing; "unreadable": a FIFO, a device...)."""
    if not os.path.lexists(path):
        return None
    try:
        return sha256_path(path)[0]
    except (OSError, ExportError):
        return "unreadable"


def _matches(path: Path, sha256: str) -> bool:
    return _state(path) == sha256


def recover(folder: Path) -> list[str]:
    """Finish the commits of exports killed while placing their files in ``folder`` (their
    process gone, their journal left): redo each remaining rename from its temporary. Returns
    one note per journal. The caller holds the folder's lock; temporaries no journal needs are
    removed afterwards by output_dir.remove_stale_temporaries."""
    notes = []
    try:
        names = sorted(e.name for e in os.scandir(folder) if _JOURNAL.match(e.name))
    except OSError:
        return notes
    for name in names:
        pid = int(_JOURNAL.match(name).group(1))
        if alive(pid):
            continue  # still placing its files (it holds the lock, or another folder's)
        path = folder / name
        moves = _read_journal(path)
        if moves is None:
            notes.append(f"removed {name}, the unreadable journal of an interrupted export")
            path.unlink(missing_ok=True)
            continue
        todo, lost, changed = [], [], []
        for move in moves:
            src, dst = folder / move["from"], folder / move["to"]
            now = _state(dst)
            if now == move["sha256"]:
                continue  # moved before the kill
            if now != move.get("before"):
                changed.append(dst.name)  # someone's file since the crash: never replaced
            elif _matches(src, move["sha256"]):
                todo.append((src, dst))
            else:
                lost.append(dst.name)  # its temporary is gone and the file is not the new one
        done = []
        if not changed:  # all or nothing: a pair is never completed around someone's file
            for src, dst in todo:
                replace_path(src, dst)
                done.append(dst.name)
        _fsync_folder(folder)
        path.unlink(missing_ok=True)
        artifact = moves[0]["to"] if moves else name
        if changed:
            notes.append(f"the export of {artifact} by process {pid} was killed while placing "
                         f"its files, and {', '.join(changed)} changed since: nothing moved; "
                         f"export it again with --overwrite")
        elif lost:
            notes.append(f"the export of {artifact} by process {pid} was killed while placing "
                         f"its files and cannot be completed ({', '.join(lost)} missing from "
                         f"its temporaries); export it again with --overwrite")
        elif done:
            notes.append(f"completed the export of {artifact} that process {pid} was killed "
                         f"while placing (moved {', '.join(done)})")
    return notes
