"""An export killed with SIGKILL while it puts its files in place (issue 11): at every step of
the placement (export/placement.py) the folder is left either as it was or with a journal the
next export completes, and that run says so; never a pair the next run refuses as "modified".

The kills are real: a forked child (fast: no interpreter to start) or, once, the real command,
stopped at a step by COORDATT_TEST_PAUSE_AT and sent SIGKILL there."""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import pytest
from cli_probe import listing
from process_group import process_group

from coordatt.export.output_dir import remove_stale_temporaries
from coordatt.export.placement import JOURNAL_PREFIX, PAUSE_ENV, commit, recover

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork and SIGKILL")

ART = "tiny_onnx_fp32.onnx"
NAMES = [ART, f"{ART}.check.bin", f"{ART}.json"]  # the order of the renames


def _contents(folder: Path) -> dict[str, str]:
    out = {}
    for name in NAMES:
        path = folder / name
        out[name] = ("dir:" + (path / "model").read_text()) if path.is_dir() else \
            path.read_text() if path.exists() else None
    return out


def _write(path: Path, text: str, as_dir: bool) -> None:
    if as_dir:  # an .mlpackage is a folder
        path.mkdir()
        (path / "model").write_text(text)
    else:
        path.write_text(text)


def _place(folder: Path, version: str, as_dir: bool = False) -> None:
    """What an export does: each file written whole as a .tmp-<pid>- temporary, then commit."""
    moves = []
    for name in NAMES:
        tmp = folder / f".tmp-{os.getpid()}-{name}"
        _write(tmp, f"{version} {name}", as_dir and name == ART)
        moves.append((tmp, folder / name))
    commit(moves)


def _killed_at(folder: Path, step: str, as_dir: bool = False) -> None:
    """Fork a child that places the "new" files and pauses at ``step``; SIGKILL it there."""
    read_end, write_end = os.pipe()
    with warnings.catch_warnings():  # JAX (LiteRT's tests, same worker) warns at any fork;
        warnings.simplefilter("ignore", RuntimeWarning)  # the child touches neither JAX nor
        pid = os.fork()  # torch: plain files, then it is killed
    if pid == 0:  # the child: place, pause, be killed (never returns into pytest)
        try:
            os.close(read_end)
            sys.stderr = open(write_end, "w")  # pytest's capture replaced the real one
            os.environ[PAUSE_ENV] = step
            _place(folder, "new", as_dir)
        finally:
            os._exit(1)
    os.close(write_end)
    try:
        seen, deadline = b"", time.monotonic() + 30
        while b"paused at" not in seen and time.monotonic() < deadline:
            if not select.select([read_end], [], [], 1.0)[0]:
                continue  # never blocked beyond the deadline
            chunk = os.read(read_end, 256)
            if not chunk:
                break
            seen += chunk
        assert f"paused at {step}".encode() in seen, seen
    finally:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        os.close(read_end)


OLD = {name: f"old {name}" for name in NAMES}
NEW = {name: f"new {name}" for name in NAMES}


@pytest.mark.parametrize("step", ["prepared", "journal", *NAMES])
def test_sigkill_at_each_step_of_the_placement(tmp_path, step):
    _place(tmp_path, "old")
    assert _contents(tmp_path) == OLD
    _killed_at(tmp_path, step)
    notes = recover(tmp_path)  # what the next export does first, under the folder's lock
    stale = remove_stale_temporaries(tmp_path)
    if step == "prepared":  # killed before its journal: nothing moved, temporaries removed
        assert _contents(tmp_path) == OLD and notes == [] and len(stale) == 3
    else:  # decided: the renames are completed, the pair is the new export's
        assert _contents(tmp_path) == NEW and stale == []
        if step == NAMES[-1]:  # every file was in place; only the journal was left
            assert notes == []
        else:
            (note,) = notes
            assert note.startswith(f"completed the export of {ART} that process ")
    assert listing(tmp_path) == sorted(NAMES)  # no journal, temporary or lock left


@pytest.mark.parametrize("step", ["journal", ART])
def test_sigkill_placing_a_folder_artifact(tmp_path, step):
    """A Core ML .mlpackage is a folder: replaced through .old-<pid>-, completed the same way."""
    _place(tmp_path, "old", as_dir=True)
    _killed_at(tmp_path, step, as_dir=True)
    recover(tmp_path)
    remove_stale_temporaries(tmp_path)
    assert _contents(tmp_path) == {**NEW, ART: f"dir:new {ART}"}
    assert listing(tmp_path) == sorted([*NAMES, f"{ART}/model"])


def test_journal_whose_temporaries_are_gone(tmp_path):
    """A journal whose temporary was deleted by hand cannot be completed: said, not guessed."""
    _place(tmp_path, "old")
    _killed_at(tmp_path, "journal")
    (tmp,) = tmp_path.glob(f".tmp-*-{ART}")
    tmp.unlink()
    (note,) = recover(tmp_path)
    assert f"{ART} missing from its temporaries" in note and "--overwrite" in note
    remove_stale_temporaries(tmp_path)
    assert listing(tmp_path) == sorted(NAMES)


def test_a_file_changed_after_the_crash_is_never_replaced(tmp_path):
    """Killed after its journal; then the user puts a file of their own at the artifact's name:
    the next run moves nothing (all or nothing), keeps that file and says why."""
    _place(tmp_path, "old")
    _killed_at(tmp_path, "journal")
    (tmp_path / ART).write_text("the user's own")
    (note,) = recover(tmp_path)
    assert f"{ART} changed since: nothing moved" in note and "--overwrite" in note
    remove_stale_temporaries(tmp_path)
    assert _contents(tmp_path) == {**OLD, ART: "the user's own"}
    assert listing(tmp_path) == sorted(NAMES)


def test_journals_of_live_or_unreadable_exports(tmp_path):
    live = tmp_path / f"{JOURNAL_PREFIX}{os.getppid()}-{ART}.json"
    live.write_text("{}")  # a running export's: never touched
    _killed_at(tmp_path, "journal")
    (dead,) = [p for p in tmp_path.glob(f"{JOURNAL_PREFIX}*") if p != live]
    dead.write_text(json.dumps({"schema": "coordatt.commit/1",
                                "moves": [{"from": "../../etc/passwd", "to": "x",
                                           "sha256": "0"}]}))
    (note,) = recover(tmp_path)
    assert "unreadable journal" in note
    assert not dead.exists() and live.exists() and not (tmp_path / "x").exists()


FACTORY = """
from coordatt.mobilenetv2 import MobileNetV2

def tiny(num_classes=10):
    return MobileNetV2(coord_att=True, settings=((1, 16, 1, 1), (6, 24, 2, 2)),
                       num_classes=num_classes)
"""


def test_killed_export_is_completed_by_the_next_one(tmp_path, capsys, monkeypatch):
    """The real command, SIGKILLed after its artifact's rename (the defect: the next run
    refused the pair as "modified"): the next run completes the pair, says so, then judges it
    as any earlier export (here: other settings, refused without --overwrite)."""
    from coordatt.export.cli import main
    from coordatt.export.sidecar import sha256_path

    (tmp_path / "tinyfac.py").write_text(FACTORY)
    out = tmp_path / "out"
    art = "tiny_onnx_fp32_64x64.onnx"
    args = [sys.executable, "-m", "coordatt.export.cli", "--format", "onnx", "--model",
            "tinyfac:tiny", "--input-size", "64", "--no-verify", "--output-dir", str(out)]
    env = {**os.environ, "PYTHONPATH": str(tmp_path), "PYTHONDONTWRITEBYTECODE": "1",
           PAUSE_ENV: art}
    with process_group(args, cwd=tmp_path, env=env, stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, text=True) as proc:
        seen = ""
        for line in proc.stderr:
            seen += line
            if line.startswith("paused at"):
                break
        assert f"paused at {art}" in seen, seen
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(30)
    assert f"{art}.json" not in listing(out)  # the sidecar was still to come
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    code = main(["--format", "onnx", "--model", "tinyfac:tiny", "--input-size", "64",
                 "--no-verify", "--mean", "0.5,0.5,0.5", "--output-dir", str(out)])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err, err
    lines = err.strip().splitlines()
    assert lines[0].startswith(f"warning: completed the export of {art} that process "), err
    assert lines[1].startswith(f"error: {out / art} exists and was exported from other "
                               f"settings"), err
    assert len(lines) == 2, err
    sidecar = json.loads((out / f"{art}.json").read_text())
    assert sidecar["sha256"] == sha256_path(out / art)[0]
    assert listing(out) == sorted([art, f"{art}.check.bin", f"{art}.json"])
