"""coordatt-train as a hostile but honest user runs it (issue 11): a --data or --weights that is
not what it should be (a FIFO, a device, a file), an output folder that cannot be
written. Every probe fails before any training, with one line, exit 2 and nothing written; none
of them trains (each takes milliseconds)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from cli_probe import listing

from coordatt.train import cli
from coordatt.train.cli import main


@pytest.fixture
def no_training(monkeypatch):
    """Fail the probe if it gets as far as training."""

    def refuse(*args, **kwargs):
        raise AssertionError("trained before refusing the input")

    monkeypatch.setattr(cli, "train", refuse)


@pytest.fixture
def data(tmp_path) -> Path:
    from PIL import Image

    for cls in ("circle", "square"):
        (tmp_path / "data" / cls).mkdir(parents=True)
        for i in range(3):
            Image.new("RGB", (8, 8), (80 * i, 0, 0)).save(tmp_path / "data" / cls / f"{i}.png")
    return tmp_path / "data"


def _one_line(capsys) -> str:
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in err, err
    return lines[0]


def _odd(tmp_path: Path, kind: str) -> Path:
    path = tmp_path / f"odd_{kind}"
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "device":
        path.symlink_to("/dev/zero")
    else:
        path.write_text("a plain file")
    return path


@pytest.mark.parametrize("kind", ["fifo", "device", "file"])
def test_data_that_is_not_a_folder(tmp_path, capsys, kind):
    odd = _odd(tmp_path, kind)
    before = listing(tmp_path)
    code = main(["--data", str(odd), "--width-mult", "0.35", "--input-size", "32", "-q",
                 "--output-dir", str(tmp_path / "out")])
    assert code == 2 and "not a folder" in _one_line(capsys)
    assert listing(tmp_path) == before


@pytest.mark.parametrize("kind", ["fifo", "device", "file"])
def test_weights_that_are_not_a_checkpoint_file(tmp_path, data, capsys, kind):
    odd = _odd(tmp_path, kind)
    before = listing(tmp_path)
    code = main(["--data", str(data), "--width-mult", "0.35", "--input-size", "32", "-q",
                 "--weights", str(odd), "--output-dir", str(tmp_path / "out")])
    line = _one_line(capsys)
    assert code == 2
    if kind == "file":  # read, refused as not a checkpoint
        assert "checkpoint" in line, line
    else:
        assert f"is not a regular file ({'a FIFO' if kind == 'fifo' else 'a character'}" in line
    assert listing(tmp_path) == before


@pytest.mark.parametrize("where", ["a-file", "under-a-file", "dangling-link"])
def test_output_dir_is_checked_before_training(tmp_path, data, capsys, no_training, where):
    blocker = tmp_path / "plain_file"
    blocker.write_text("mine")
    out = {"a-file": blocker, "under-a-file": blocker / "run",
           "dangling-link": tmp_path / "link"}[where]
    if where == "dangling-link":
        out.symlink_to(tmp_path / "gone" / "deeper")
    before = listing(tmp_path)
    code = main(["--data", str(data), "--width-mult", "0.35", "--input-size", "32", "-q",
                 "--output-dir", str(out)])
    assert code == 2 and f"--output-dir {out}" in _one_line(capsys)
    assert listing(tmp_path) == before and blocker.read_text() == "mine"


def test_ctrl_c_before_training(tmp_path, data, capsys, monkeypatch):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "train", interrupted)
    code = main(["--data", str(data), "--width-mult", "0.35", "--input-size", "32", "-q",
                 "--output-dir", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 130 and err == "interrupted before training started; nothing was written\n"
    assert not (tmp_path / "out").exists()
