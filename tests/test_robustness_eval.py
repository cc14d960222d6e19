"""coordatt-eval as a hostile but honest user runs it (issue 11, the eval side): --data paths that
are not folders, image files that are FIFOs, devices or not images, damaged or missing check
files, output folders that cannot be written, Ctrl-C. Each probe checks the exit code, a
one-line message without a traceback and what the output folder holds afterwards (hidden files
included). Fast: the run's shared 64x64 tiny_ca ONNX artifact, a few 8x8 images."""

from __future__ import annotations

import importlib
import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from cli_probe import listing, one_line_error
from process_group import process_group

from coordatt.eval.cli import main

# the module (coordatt.eval's own ``evaluate`` is the function of that name)
EVALUATE = importlib.import_module("coordatt.eval.evaluate")
pytest.importorskip("onnxruntime")

TENCH, GOLDFISH = "n01440764", "n01443537"  # ImageNet synset folders: the model's labels


@pytest.fixture(scope="module")
def arts(tiny_artifacts, tmp_path_factory):
    """A folder holding conftest's tiny_ca as a 64x64 fp32 ONNX artifact with its sidecar and
    check file (copied from the run's shared export)."""
    from artifact_cache import copy_artifacts

    return copy_artifacts(tiny_artifacts, tmp_path_factory.mktemp("eval_arts"),
                          keep=lambda name: name.endswith("_onnx_fp32_64x64.onnx"))


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    """Two classes of two images, one file that is not an image, and a FIFO, a device and a
    folder named like images (listed never, read never)."""
    from PIL import Image

    root = tmp_path_factory.mktemp("eval_data")
    for cls in (TENCH, GOLDFISH):
        (root / cls).mkdir()
        for i in range(2):
            Image.new("RGB", (8, 8), (60 * i, 90, 30)).save(root / cls / f"{i}.png")
    (root / TENCH / "broken.jpg").write_bytes(b"not a jpeg")
    os.mkfifo(root / GOLDFISH / "fifo.jpg")
    (root / GOLDFISH / "zero.png").symlink_to("/dev/zero")
    (root / GOLDFISH / "folder.jpg").mkdir()
    return root


def _copy(arts: Path, to: Path) -> Path:
    shutil.copytree(arts, to)
    (artifact,) = to.glob("*.onnx")
    return artifact


def _run(capsys, *argv) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_images_that_are_not_images_are_counted_or_never_read(arts, data, tmp_path, capsys):
    out = tmp_path / "out"
    code, stdout, err = _run(capsys, "--data", data, "--artifacts", arts, "--runtimes",
                             "onnxruntime", "--output-dir", out, "--no-progress")
    assert code == 0, err
    assert "Traceback" not in err and "1 image(s) could not be decoded" in stdout
    doc = json.loads((out / "eval.json").read_text())
    assert doc["data"]["images"] == 5 and doc["data"]["skipped_images"] == 1
    assert doc["results"][0]["images"] == 4 and doc["results"][0]["check"] == "passed"
    assert listing(out) == ["eval.csv", "eval.json"]


def _not_a_folder(tmp_path: Path, kind: str) -> Path:
    path = tmp_path / f"data_{kind}"
    if kind == "file":
        path.write_text("x")
    elif kind == "fifo":
        os.mkfifo(path)
    elif kind == "device":
        path.symlink_to("/dev/zero")
    elif kind == "dangling":
        path.symlink_to(tmp_path / "nowhere")
    return path


@pytest.mark.parametrize("kind", ["file", "fifo", "device", "dangling"])
def test_data_that_is_not_a_folder(arts, tmp_path, capsys, kind):
    out = tmp_path / "out"
    code, _, err = _run(capsys, "--data", _not_a_folder(tmp_path, kind), "--artifacts", arts,
                        "--output-dir", out)
    line = one_line_error(err)
    assert code == 2 and ("is not a folder" in line or "not found" in line), line
    assert not out.exists()


def test_labels_csv_that_is_a_fifo_is_never_read(arts, tmp_path, capsys):
    flat = tmp_path / "flat"
    flat.mkdir()
    os.mkfifo(flat / "labels.csv")
    code, _, err = _run(capsys, "--data", flat, "--artifacts", arts, "--labels-csv",
                        flat / "labels.csv", "--output-dir", tmp_path / "out")
    assert code == 2 and "is not a regular file (a FIFO)" in one_line_error(err)


@pytest.mark.parametrize("where", ["a-file", "under-a-file", "eval.json-is-a-folder",
                                   "dangling-link"])
def test_output_dir_that_cannot_be_written_is_refused_first(arts, data, tmp_path, capsys,
                                                           monkeypatch, where):
    def refuse(*args, **kwargs):
        raise AssertionError("evaluated before checking the output folder")

    monkeypatch.setattr(EVALUATE, "evaluate", refuse)
    blocker = tmp_path / "plain_file"
    blocker.write_text("mine")
    out = {"a-file": blocker, "under-a-file": blocker / "sub",
           "eval.json-is-a-folder": tmp_path / "out", "dangling-link": tmp_path / "link"}[where]
    if where == "eval.json-is-a-folder":
        (out / "eval.json").mkdir(parents=True)
    if where == "dangling-link":
        out.symlink_to(tmp_path / "gone" / "deeper")
    before = listing(tmp_path)
    code, _, err = _run(capsys, "--data", data, "--artifacts", arts, "--output-dir", out)
    assert code == 2 and f"--output-dir {out}" in one_line_error(err)
    assert listing(tmp_path) == before and blocker.read_text() == "mine"


def test_results_kept_when_the_folder_fails_after_evaluating(arts, data, tmp_path, capsys,
                                                            monkeypatch):
    """A folder that turns read-only (or a full disk) after the evaluation: the results go to
    a temporary folder the message names, exit 1, nothing half-written in the folder."""
    from coordatt.eval import report

    real = report._atomic_write
    out = tmp_path / "out"

    def read_only(path, payload):
        if Path(path).parent == out:
            raise OSError(30, "Read-only file system")
        real(path, payload)

    monkeypatch.setattr(report, "_atomic_write", read_only)
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    code, _, err = _run(capsys, "--data", data, "--artifacts", arts, "--runtimes",
                        "onnxruntime", "--output-dir", out, "--no-progress")
    line = one_line_error(err)
    assert code == 1 and "Read-only file system" in line and "saved them to" in line
    (saved,) = (tmp_path / "tmp").iterdir()
    assert str(saved) in line and listing(saved) == ["eval.csv", "eval.json"]
    assert json.loads((saved / "eval.json").read_text())["results"][0]["images"] == 4
    assert listing(out) == []


@pytest.mark.parametrize("damage", ["missing", "corrupt", "other-shapes", "fifo"])
def test_damaged_check_file(arts, data, tmp_path, capsys, damage):
    """--check: missing is exit 1 (nothing checked), a damaged file exit 2, one line each;
    --data: the accuracy is still measured, the check column and one note say why."""
    from coordatt.check_file import read_check_file, write_check_file

    artifact = _copy(arts, tmp_path / "arts")
    check = artifact.with_name(artifact.name + ".check.bin")
    if damage == "missing":
        check.unlink()
    elif damage == "corrupt":
        raw = bytearray(check.read_bytes())
        raw[200] ^= 0xFF
        check.write_bytes(bytes(raw))
    elif damage == "fifo":
        check.unlink()
        os.mkfifo(check)
    else:  # a well-formed check file of other shapes, its sha256 recorded: shapes refused
        import hashlib

        d = read_check_file(check)
        d.inputs = d.inputs[:, :, :32, :32].copy()
        check.unlink()
        write_check_file(check, d)
        side = Path(f"{artifact}.json")
        doc = json.loads(side.read_text())
        doc["check"]["sha256"] = hashlib.sha256(check.read_bytes()).hexdigest()
        side.write_text(json.dumps(doc))
    code, stdout, err = _run(capsys, "--check", artifact)
    expect = {"missing": "is missing", "corrupt": "does not match the sha256",
              "other-shapes": "holds inputs [1, 3, 32, 32]",
              "fifo": "is not a regular file (a FIFO)"}[damage]
    if damage == "missing":  # the table cuts the reason: the error line gives it whole
        line = one_line_error(err, "error: no artifact was checked: ")
        assert code == 1 and line.endswith(f"{check.name} is missing")
    else:
        assert code == 2 and expect in one_line_error(err)
    if damage == "other-shapes":
        return  # its sidecar was edited: bench's own checks refuse the artifact for --data
    out = tmp_path / "out"
    code, _, err = _run(capsys, "--data", data, "--artifacts", tmp_path / "arts", "--runtimes",
                        "onnxruntime", "--output-dir", out, "--no-progress")
    assert code == 0 and "Traceback" not in err, err
    row = json.loads((out / "eval.json").read_text())["results"][0]
    assert row["images"] == 4
    if damage == "missing":
        assert row["check"] == "no check file" and err == ""
    else:
        assert row["check"].startswith("error: ") and expect in row["check"]
        assert one_line_error(err, "note: ").endswith(row["check"])
    assert listing(out) == ["eval.csv", "eval.json"]


def test_ctrl_c_during_the_evaluation(arts, data, tmp_path, capsys, monkeypatch):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(EVALUATE, "load_image", interrupted)
    out = tmp_path / "out"
    code, _, err = _run(capsys, "--data", data, "--artifacts", arts, "--runtimes",
                        "onnxruntime", "--output-dir", out, "--no-progress")
    assert code == 130
    one_line_error(err, "interrupted: nothing was written")
    assert listing(out) == []


SLOW_READS = """
import sys, time
import PIL.Image
real_open = PIL.Image.open

def slow_open(*args, **kwargs):  # each image takes a while: Ctrl-C lands mid-evaluation
    print("READING", file=sys.stderr, flush=True)
    time.sleep(0.3)
    return real_open(*args, **kwargs)

PIL.Image.open = slow_open
from coordatt.eval.cli import main
sys.exit(main(sys.argv[1:]))
"""


def test_real_ctrl_c_from_the_terminal(arts, data, tmp_path):
    """SIGINT to the whole group as a terminal sends it, while the images are being read:
    exit 130, one line, nothing written."""
    out = tmp_path / "out"
    args = [sys.executable, "-c", SLOW_READS, "--data", str(data), "--artifacts", str(arts),
            "--runtimes", "onnxruntime", "--output-dir", str(out), "--no-progress"]
    with process_group(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                       terminal_sigint=True) as proc:
        first = proc.stderr.readline()  # blocks until the first image is read (or the end)
        assert first == "READING\n", first + proc.communicate(timeout=60)[1]
        os.killpg(proc.pid, signal.SIGINT)
        err = proc.communicate(timeout=60)[1]
    assert proc.returncode == 130, err
    one_line_error(err.replace("READING\n", ""), "interrupted: nothing was written")
    assert listing(out) == []
