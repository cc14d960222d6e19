"""coordatt-export's command line: bad input is one line on stderr and exit code 2; a run's
terminal output is clean of third-party noise."""

import os
import subprocess
import sys

import pytest
import torch

from coordatt.export.cli import main


def _run(capsys, *argv):
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.parametrize(("argv", "message"), [
    (["--format", "tf"], "unknown format 'tf'; choose from pte, onnx, tflite, coreml, all"),
    (["--format", "pte", "--model", "resnet50"],
     "unknown model 'resnet50'; choose from mobilenetv2, mobilenetv2_ca"),
    (["--format", "pte", "--width-mult", "0.6"], "unsupported width_mult 0.6; choose from"),
    (["--format", "pte", "--input-size", "16"], "input size 16x16 is out of range"),
    (["--format", "pte", "--quantize", "int4"], "unknown quantization 'int4'; choose from"),
    (["--format", "pte", "--backend", "vulkan"], "unknown backend 'vulkan'; choose from"),
    (["--format", "coreml", "--coreml-precision", "int8"], "unknown Core ML precision"),
    (["--format", "pte", "--quantize", "int8", "--backend", "portable"], "int8 needs"),
    (["--format", "coreml", "--quantize", "int8"],
     "--quantize int8 has no path for --format coreml; int8 is for pte, onnx, tflite (or all)"),
    (["--format", "pte", "--calibration-dir", "x"], "--calibration-dir is used by --quantize"),
])
def test_bad_settings(capsys, argv, message):
    code, out, err = _run(capsys, *argv)
    assert code == 2 and out == ""
    assert err.startswith("error: ") and message in err and err.count("\n") == 1


def test_bad_input_size_syntax(capsys):
    with pytest.raises(SystemExit) as e:
        main(["--format", "pte", "--input-size", "big"])
    assert e.value.code == 2
    assert "bad input size 'big'; use N or HxW" in capsys.readouterr().err


def test_unreadable_weights(capsys, tmp_path):
    bad = tmp_path / "mbv2_ca.pth"
    bad.write_bytes(b"not a checkpoint")
    code, _, err = _run(capsys, "--format", "onnx", "--weights", str(bad),
                        "--output-dir", str(tmp_path / "out"))
    assert code == 2 and "is not a readable checkpoint" in err and err.count("\n") == 1
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").iterdir())


def test_mismatched_weights(capsys, tmp_path):
    import coordatt

    path = tmp_path / "w050.pth"
    torch.save(coordatt.create_model("mobilenetv2_ca", width_mult=0.5).state_dict(), path)
    code, _, err = _run(capsys, "--format", "onnx", "--weights", str(path),
                        "--output-dir", str(tmp_path / "out"))
    assert code == 2 and "another width_mult" in err and err.count("\n") == 1


def test_missing_calibration_dir(capsys, tmp_path):
    code, _, err = _run(capsys, "--format", "pte", "--quantize", "int8", "--calibration-dir",
                        str(tmp_path / "nope"), "--output-dir", str(tmp_path / "out"))
    assert code == 2 and "image folder not found" in err


def test_unwritable_output_dir(capsys, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    code, _, err = _run(capsys, "--format", "onnx", "--output-dir", str(blocker / "sub"))
    assert code == 2 and "cannot write to output folder" in err and err.count("\n") == 1


def test_missing_backend(capsys, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "coremltools", None)  # import now raises ImportError
    code, _, err = _run(capsys, "--format", "coreml", "--output-dir", str(tmp_path))
    assert code == 2
    assert err == 'error: coremltools is not installed; run: pip install "coordatt[coreml]"\n'


def test_existing_foreign_file(capsys, tmp_path):
    (tmp_path / "mobilenetv2_ca_100_onnx_fp32.onnx").write_bytes(b"mine")
    code, _, err = _run(capsys, "--format", "onnx", "--output-dir", str(tmp_path))
    assert code == 2 and "pass --overwrite" in err
    assert (tmp_path / "mobilenetv2_ca_100_onnx_fp32.onnx").read_bytes() == b"mine"


def test_clean_terminal_output(tmp_path):
    """A real run in a fresh process: the table, progress lines, and none of the toolchain's
    noise (torchao's .so warnings, coremltools' version notices, cpuinfo lines)."""
    env = {**os.environ, "PYTHONWARNINGS": ""}
    proc = subprocess.run(
        [sys.executable, "-m", "coordatt.export.cli", "--format", "coreml", "--width-mult",
         "0.35", "--input-size", "64", "--output-dir", str(tmp_path)],
        capture_output=True, text=True, env=env, timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert "mobilenetv2_ca_035_mlprogram_fp16_64x64.mlpackage" in proc.stdout
    assert "spec ok; numbers need macOS" in proc.stdout
    assert "converting to Core ML (fp16) ..." in proc.stderr
    for noise in ("Failed to load", "Torch version", "scikit-learn", "cpuinfo", "WARNING",
                  "Traceback", "Converting PyTorch Frontend"):
        assert noise not in proc.stdout + proc.stderr, noise
