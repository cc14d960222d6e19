"""coordatt-export against a hostile but honest user (issue 11): paths that are not regular
files, interrupted and concurrent runs, changed artifacts, non-finite weights, odd checkpoints.
Each probe checks the exit code or error, the one-line message (no traceback) and what is left
in the output folder, hidden files included."""

import os
import pickle
import signal
import subprocess
import sys
import textwrap
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import torch
from cli_probe import listing
from process_group import process_group
from torch import nn

import coordatt
from coordatt.check_file import check_path
from coordatt.checkpoints import CheckpointError, read_state_dict
from coordatt.errors import ExportError
from coordatt.export import export_model
from coordatt.export import targets as target_impl
from coordatt.export.cli import main
from coordatt.export.output_dir import LOCK_NAME, locked
from coordatt.export.pipeline import ExportConfig, export
from coordatt.export.sidecar import check_overwrite, read_sidecar, sha256_file, sidecar_path
from coordatt.preprocess import list_images

pytest.importorskip("onnxruntime")


def _run(capsys, *argv):
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _one_line(err: str) -> None:
    assert err.count("\n") == 1 and "Traceback" not in err, err


def _dead_pid() -> int:
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


def _not_regular(tmp_path, kind):
    path = tmp_path / f"weird_{kind}"
    if kind == "folder":
        path.mkdir()
    elif kind == "fifo":
        os.mkfifo(path)
    elif kind == "device":
        path.symlink_to("/dev/zero")
    return path


KINDS = ["folder", "fifo", "device", "missing"]


@pytest.mark.parametrize("kind", KINDS)
def test_weights_not_a_regular_file(capsys, tmp_path, kind):
    weights = _not_regular(tmp_path, kind)
    out = tmp_path / "a" / "b"
    code, stdout, err = _run(capsys, "--format", "onnx", "--input-size", "64",
                             "--weights", str(weights), "--output-dir", str(out))
    assert code == 2 and stdout == ""
    _one_line(err)
    assert ("checkpoint not found" if kind == "missing" else "is not a regular file") in err
    assert not (tmp_path / "a").exists()


@pytest.mark.parametrize("kind", KINDS)
def test_labels_not_a_regular_file(tiny_model, tmp_path, kind):
    labels = _not_regular(tmp_path, kind)
    config = ExportConfig(model=tiny_model, input_size=(64, 64), labels=labels,
                          output_dir=tmp_path / "out")
    with pytest.raises(ValueError, match="not found" if kind == "missing" else "not a regular"):
        export(config, ["onnx"], progress=False)
    assert not (tmp_path / "out").exists()


def test_hashing_never_reads_a_fifo_or_device(tmp_path):
    for kind in ("fifo", "device", "folder"):
        with pytest.raises(ExportError, match="is not a regular file"):
            sha256_file(_not_regular(tmp_path, kind))


def test_calibration_folder_skips_fifos_and_devices(capsys, tmp_path):
    from PIL import Image

    folder = tmp_path / "calib"
    (folder / "cls").mkdir(parents=True)
    os.mkfifo(folder / "cls" / "a.jpg")
    (folder / "cls" / "b.png").symlink_to("/dev/zero")
    (folder / "cls" / "c.png").mkdir()
    Image.new("RGB", (8, 8)).save(folder / "cls" / "d.png")
    assert list_images(folder, recursive=True) == [folder / "cls" / "d.png"]
    # a "folder" that is a file
    code, _, err = _run(capsys, "--format", "pte", "--quantize", "int8", "--calibration-dir",
                        str(folder / "cls" / "d.png"), "--output-dir", str(tmp_path / "o"))
    assert code == 2 and "is not a folder" in err
    _one_line(err)
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("where", ["fifo", "file", "under-a-file", "under-a-device"])
def test_output_dir_that_is_not_a_folder(capsys, tmp_path, where):
    blocker = tmp_path / "blocker"
    if where == "fifo":
        os.mkfifo(blocker)
    else:
        blocker.write_text("mine")
    out = {"fifo": blocker, "file": blocker, "under-a-file": blocker / "a" / "b",
           "under-a-device": tmp_path / "dev" / "x"}[where]
    if where == "under-a-device":
        (tmp_path / "dev").symlink_to("/dev/null")
    before = listing(tmp_path)
    code, _, err = _run(capsys, "--format", "onnx", "--input-size", "64", "--output-dir",
                        str(out))
    _one_line(err)
    kind = {"fifo": "a FIFO", "under-a-device": "a character device"}.get(where,
                                                                          "a regular file")
    assert code == 2 and f"not a folder ({kind})" in err, err
    assert ("which is not a folder" in err) == where.startswith("under"), err
    assert listing(tmp_path) == before


def test_empty_output_dir_is_an_error(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, _, err = _run(capsys, "--format", "onnx", "--output-dir", "")
    assert code == 2 and "--output-dir is empty" in err
    _one_line(err)
    with pytest.raises(ValueError, match="--output-dir is empty"):
        export_model(nn.Linear(3, 2).eval(), output_dir="", formats=["onnx"])
    assert listing(tmp_path) == []


@pytest.mark.parametrize("name", ["../evil", "a/b", "my model", "x" * 81, "-"])
def test_a_name_that_is_not_a_file_name_is_refused(capsys, tmp_path, name):
    """--name is used as given or refused (exit 2, one line naming what is allowed), never
    rewritten into another name or a path outside --output-dir."""
    out = tmp_path / "out"
    code, _, err = _run(capsys, "--format", "onnx", "--name", name, "--output-dir", str(out))
    assert code == 2 and "bad artifact name" in err and "letters, digits, _ . -" in err, err
    _one_line(err)
    assert listing(tmp_path) == []
    with pytest.raises(ValueError, match="bad artifact name"):
        export_model(nn.Linear(3, 2).eval(), name=name, output_dir=out, formats=["onnx"])
    assert listing(tmp_path) == []


def _save_tiny(tiny_model, path, edit=None):
    state = coordatt.create_model(tiny_model, num_classes=10).state_dict()
    if edit:
        edit(state)
    torch.save(state, path)
    return path


@pytest.mark.parametrize(("edit", "message"), [
    (lambda s: s["blocks.1.pw.conv.weight"].view(-1)[3].fill_(float("nan")),
     "tensor blocks.1.pw.conv.weight holds 1 NaN/Inf values"),
    (lambda s: s["classifier.bias"].fill_(float("inf")),
     "tensor classifier.bias holds 10 NaN/Inf values"),
    (lambda s: s.__setitem__("stem.conv.weight", s["stem.conv.weight"].long()),
     "tensor stem.conv.weight is int64 where the model holds float32"),
])
def test_non_finite_or_integer_weights(capsys, tiny_model, tmp_path, edit, message):
    path = _save_tiny(tiny_model, tmp_path / "w.pth", edit)
    out = tmp_path / "a" / "b" / "c"
    code, _, err = _run(capsys, "--format", "onnx", "--model", tiny_model, "--input-size", "64",
                        "--no-verify", "--weights", str(path), "--output-dir", str(out))
    assert code == 2 and message in err
    _one_line(err)
    assert not (tmp_path / "a").exists()


class _Constant(nn.Module):
    def __init__(self, value):
        super().__init__()
        self.register_buffer("offset", torch.full((2,), value))
        self.fc = nn.Linear(3, 2)

    def forward(self, x):
        return self.fc(x.mean((2, 3))) + self.offset


class _Overflow(nn.Module):
    def forward(self, x):
        return (x.mean((2, 3)) + 1.0) * 1e38 * 1e38  # finite weights, infinite outputs


@pytest.mark.parametrize(("model", "message"), [
    (_Constant(float("nan")), "tensor offset holds NaN/Inf"),
    (_Overflow(), "outputs in eager PyTorch hold NaN/Inf"),
])
def test_no_verify_never_writes_a_non_finite_model(tmp_path, model, message):
    out = tmp_path / "x" / "y"
    with pytest.raises(ExportError, match=message):
        export_model(model.eval(), input_size=(32, 32), formats=["onnx"], output_dir=out,
                     verify=False, progress=False)
    assert not (tmp_path / "x").exists()


def test_non_finite_artifact_outputs_fail_verification(capsys, tiny_model, tmp_path,
                                                      monkeypatch):
    from coordatt.export import onnx as onnx_target

    monkeypatch.setattr(onnx_target, "run_onnx",
                        lambda path, inputs: [torch.full((1, 10), float("nan")) for _ in inputs])
    weights = _save_tiny(tiny_model, tmp_path / "w.pth")
    code, _, err = _run(capsys, "--format", "onnx", "--model", tiny_model, "--input-size", "64",
                        "--weights", str(weights), "--output-dir", str(tmp_path / "o"))
    assert code == 1 and "verification failed: the artifact's outputs hold NaN/Inf" in err
    _one_line(err)
    assert not (tmp_path / "o").exists()


def test_integer_bookkeeping_buffers_still_load(tiny_model, tmp_path):
    """BatchNorm's num_batches_tracked is int64 in every checkpoint: not a dtype mismatch."""
    path = _save_tiny(tiny_model, tmp_path / "w.pth")
    assert any(v.dtype == torch.int64 for v in torch.load(path).values())
    coordatt.create_model(tiny_model, num_classes=10, weights=path)


class _System:
    def __reduce__(self):
        return (os.system, ("echo this must never run",))


def test_checkpoint_messages(tmp_path, capfd):
    blocked = tmp_path / "blocked.pth"
    torch.save({"x": _System()}, blocked)  # torch: "... GLOBAL posix.system whose module ...
    with pytest.raises(CheckpointError, match=r"holds Python objects \(\w+\.system\), not only "
                                              r"tensors: refused"):
        read_state_dict(blocked)
    raw = tmp_path / "raw.pth"
    raw.write_bytes(pickle.dumps({"x": _System()}, protocol=2))
    with pytest.raises(CheckpointError, match="holds Python objects"):
        read_state_dict(raw)
    assert "this must never run" not in capfd.readouterr().out
    keyed = tmp_path / "keyed.pth"
    torch.save({1: torch.zeros(1)}, keyed)
    with pytest.raises(CheckpointError, match=r"key 1 \(int\) is not a name"):
        read_state_dict(keyed)


def test_one_wrong_tensor_does_not_blame_the_width(tiny_model, tmp_path):
    def shrink(state):
        state["blocks.1.pw.conv.weight"] = state["blocks.1.pw.conv.weight"][:-1]

    path = _save_tiny(tiny_model, tmp_path / "w.pth", shrink)
    with pytest.raises(CheckpointError) as e:
        coordatt.create_model(tiny_model, num_classes=10, weights=path)
    assert "width_mult" not in str(e.value) and "only this tensor differs" in str(e.value)


def _config(tiny_model, out, **kw):
    """A tiny export from a checkpoint (faster than the random-init stand-in's BN estimation)."""
    weights = out.parent / "tiny.pth"
    if not weights.exists():
        _save_tiny(tiny_model, weights)
    return ExportConfig(model=tiny_model, input_size=(64, 64), output_dir=out, weights=weights,
                        **kw)


def _fake_produce(target, tmp, *args, **kwargs):
    """Pipeline mechanics without a real toolchain: the artifact is its settings' bytes."""
    tmp.write_bytes(repr(args[2]).encode())  # the ExportConfig
    return {}, {"status": "skipped", "message": "--no-verify"}


def test_changed_artifact_is_not_replaced(tiny_model, tmp_path, monkeypatch):
    monkeypatch.setattr(target_impl, "produce", _fake_produce)
    config = _config(tiny_model, tmp_path / "out", verify=False)
    (r,) = export(config, ["onnx"], progress=False)
    path = r.target.path
    identity = read_sidecar(path)["identity"]
    check_overwrite(path, identity, False)  # unchanged: ours to replace
    changed = path.read_bytes() + b"\0"
    path.write_bytes(changed)  # the user edited the artifact; its sidecar is intact
    with pytest.raises(ExportError, match="was changed after its export"):
        export(config, ["onnx"], progress=False)
    assert path.read_bytes() == changed
    path.unlink()  # an artifact gone with a sidecar of ours: the re-export may restore it
    check_overwrite(path, identity, False)
    sidecar_path(path).write_text("{}")  # a foreign sidecar alone: the error names the .json
    with pytest.raises(ExportError, match=r"\.onnx\.json exists and was not written by"):
        export(config, ["onnx"], progress=False)
    # the first export's check file stays beside the sidecar of ours it was replaced with
    assert listing(tmp_path / "out") == sorted([check_path(path).name, sidecar_path(path).name])


def test_concurrent_export_with_other_settings_fails(tiny_model, tmp_path, monkeypatch):
    """B starts and finishes while A is between its first check and its commit: A must fail
    at the commit, never replace B's artifact."""
    first = _config(tiny_model, tmp_path / "out", verify=False)
    other = _config(tiny_model, tmp_path / "out", verify=False, mean=(0.5, 0.5, 0.5))
    calls = []

    def produce_while_b_runs(*args, **kwargs):
        result = _fake_produce(*args, **kwargs)
        if not calls:
            calls.append(1)
            export(other, ["onnx"], progress=False)
        return result

    monkeypatch.setattr(target_impl, "produce", produce_while_b_runs)
    with pytest.raises(ExportError, match="exists and was exported from other settings"):
        export(first, ["onnx"], progress=False)
    (path,) = (tmp_path / "out").glob("*.onnx")
    assert path.read_bytes() == repr(other).encode()  # B's artifact, untouched
    assert listing(tmp_path / "out") == sorted([path.name, sidecar_path(path).name,
                                              check_path(path).name])


def test_lock_wait_is_bounded(tmp_path):
    with locked(tmp_path):
        start = time.monotonic()
        with pytest.raises(ExportError, match="another export has been writing into"):
            with locked(tmp_path, timeout=0.3):
                pass
        assert time.monotonic() - start < 5
    assert listing(tmp_path) == []  # the lock file goes with the lock


def test_stale_temporaries_of_dead_exports_are_removed(capsys, tiny_model, tmp_path):
    dead, live = _dead_pid(), os.getppid()
    stale = [f".tmp-{dead}-tiny.onnx", f".tmp-{dead}-tiny.onnx.json-k2j3h4",
             f".coordatt-probe-{dead}-ab12", LOCK_NAME]
    for name in stale:
        (tmp_path / name).write_bytes(b"x" * 100)
    (tmp_path / f".old-{dead}-tiny.mlpackage" / "Data").mkdir(parents=True)
    keep = [f".tmp-{live}-running.onnx", "notes.txt"]
    for name in keep:
        (tmp_path / name).write_text("a live export's file; the user's file")
    code, _, err = _run(capsys, "--format", "onnx", "--model", tiny_model, "--input-size", "64",
                        "--no-verify", "--output-dir", str(tmp_path))
    assert code == 0, err
    warning = [line for line in err.splitlines() if line.startswith("warning: removed 4 ")]
    assert len(warning) == 1 and "interrupted exports" in warning[0], err
    assert listing(tmp_path) == sorted([*keep, "tiny_ca_100_onnx_fp32_64x64.onnx",
                                      "tiny_ca_100_onnx_fp32_64x64.onnx.json",
                                      "tiny_ca_100_onnx_fp32_64x64.onnx.check.bin"])


FACTORY = textwrap.dedent("""
    import os, sys, time
    from coordatt.mobilenetv2 import MobileNetV2

    def tiny(num_classes=10):
        if os.environ.get("TINY_SLOW_BUILD"):
            print("BUILDING", file=sys.stderr, flush=True)
            time.sleep(120)
        return MobileNetV2(coord_att=True, settings=((1, 16, 1, 1), (6, 24, 2, 2)),
                           num_classes=num_classes)
""")


def _command(tmp_path, out, marker_env=None):
    env = {**os.environ, "PYTHONPATH": str(tmp_path), "PYTHONDONTWRITEBYTECODE": "1",
           **(marker_env or {})}
    args = [sys.executable, "-m", "coordatt.export.cli", "--format", "onnx", "--model",
            "tinyfac:tiny", "--input-size", "64", "--output-dir", str(out)]
    return args, {"cwd": tmp_path, "env": env, "stderr": subprocess.PIPE,
                  "stdout": subprocess.DEVNULL, "text": True}


def _signal_at(proc, marker: str, sig: int) -> str:
    """Send ``sig`` once ``marker`` appears on the process's stderr; its whole stderr."""
    seen = ""
    deadline = time.monotonic() + 240
    while marker not in seen and time.monotonic() < deadline:
        char = proc.stderr.read(1)
        if not char:
            break
        seen += char
    assert marker in seen, seen
    proc.send_signal(sig)
    rest = proc.communicate(timeout=120)[1]
    assert "Traceback" not in seen + rest, seen + rest
    return rest


def test_sigterm_and_ctrl_c_leave_nothing(tmp_path):
    """SIGTERM while the model is built, SIGINT while the ONNX exporter runs (two processes at
    once): exit 130, one line, no temporary and no folder the run created."""
    (tmp_path / "tinyfac.py").write_text(FACTORY)
    args_b, kw_b = _command(tmp_path, tmp_path / "a" / "b", {"TINY_SLOW_BUILD": "1"})
    args_l, kw_l = _command(tmp_path, tmp_path / "c" / "d")
    with process_group(args_b, **kw_b) as building, process_group(args_l, **kw_l) as lowering, \
            ThreadPoolExecutor(2) as pool:
        err_build = pool.submit(_signal_at, building, "BUILDING", signal.SIGTERM)
        err_lower = pool.submit(_signal_at, lowering, "exporting to ONNX", signal.SIGINT)
        err_build, err_lower = err_build.result(), err_lower.result()
    for proc, err in ((building, err_build), (lowering, err_lower)):
        assert proc.returncode == 130, err
        assert err.strip().splitlines()[-1] == "interrupted; no partial artifact was left"
    assert listing(tmp_path) == ["tinyfac.py"]
