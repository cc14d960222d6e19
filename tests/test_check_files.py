"""The check file beside every artifact (coordatt/check_file.py, docs/formats.md) and
``coordatt-eval --check``: its documented layout, a round trip of each format's check file in its
own runtime with the export's verdict, and every way a check file can be wrong."""

import importlib.util
import json
import shutil
import struct
from pathlib import Path

import numpy as np
import pytest

from coordatt.check_file import (
    HEADER_BYTES,
    CheckData,
    CheckFileError,
    check_path,
    decode,
    encode,
    read_check_file,
)
from coordatt.errors import ExportError
from coordatt.eval.check import run_check
from coordatt.eval.cli import main
from coordatt.export.sidecar import check_overwrite, read_sidecar, sha256_file, sidecar_path

LITERT = all(importlib.util.find_spec(m) is not None for m in ("litert_torch", "ai_edge_litert"))
FP32_FORMATS = ["pte", "onnx", "coreml"] + (["tflite"] if LITERT else [])
INT8_FORMATS = ["pte", "onnx"] + (["tflite"] if LITERT else [])
EXT = {"pte": "xnnpack_{p}_64x64.pte", "onnx": "onnx_{p}_64x64.onnx",
       "tflite": "litert_{p}_64x64.tflite", "coreml": "mlprogram_fp16_64x64.mlpackage"}


def _artifact(folder, fmt, precision="fp32"):
    return folder / f"tiny_ca_100_{EXT[fmt].format(p=precision)}"


@pytest.fixture(scope="module")
def exported(tiny_artifacts, tmp_path_factory):
    """A three-block MobileNetV2-CA (conftest's tiny_ca: every op kind of the full network) at
    64x64 in every format, fp32 and int8 (calibrated on the bundled photos): a copy of the run's
    shared export (tests/artifact_cache.py), without its portable .pte. The trained network's
    check files are in tests/test_eval.py."""
    from artifact_cache import copy_artifacts

    wanted = {_artifact(Path(), fmt).name for fmt in FP32_FORMATS} | {
        _artifact(Path(), fmt, "int8").name for fmt in INT8_FORMATS}
    return copy_artifacts(tiny_artifacts, tmp_path_factory.mktemp("check_files"),
                          keep=wanted.__contains__)


def _copy(artifact, folder):
    """The artifact, its sidecar and check file copied into ``folder`` (tests that damage them
    must not touch the shared export)."""
    folder.mkdir(exist_ok=True)
    for path in (artifact, sidecar_path(artifact), check_path(artifact)):
        if path.is_dir():
            shutil.copytree(path, folder / path.name)
        else:
            shutil.copy2(path, folder / path.name)
    return folder / artifact.name


def _tree(folder):
    return {p.name: (p.stat().st_mtime_ns, p.stat().st_size) for p in folder.iterdir()}


def _rewrite_check(artifact, blob):
    """Replace the check file and record its new sha256 in the sidecar (a consistent but
    wrong pair: only the content is at fault)."""
    path = check_path(artifact)
    path.write_bytes(blob)
    doc = read_sidecar(artifact)
    doc["check"]["sha256"] = sha256_file(path)
    sidecar_path(artifact).write_text(json.dumps(doc))


def _cli(capsys, *args):
    code = main(list(map(str, args)))
    out, err = capsys.readouterr()
    return code, out, err


# --- the format ---------------------------------------------------------------------------


def test_layout_is_the_documented_one():
    """Read by the offsets of docs/formats.md, as the Android app's plain Java does."""
    rng = np.random.default_rng(0)
    data = CheckData(rng.standard_normal((2, 3, 4, 5)).astype(np.float32),
                     rng.standard_normal((2, 7)).astype(np.float32), "int8",
                     min_sqnr_db=10.0, min_cosine=0.95, min_top1_agreement=None)
    blob = encode(data)
    assert len(blob) == HEADER_BYTES + 4 * 2 * (3 * 4 * 5 + 7) == 96 + 4 * 2 * 67
    assert blob[:8] == b"COORDCHK"
    version, header, n, c, h, w, k, rule = struct.unpack_from("<8I", blob, 8)
    assert (version, header, n, c, h, w, k, rule) == (1, 96, 2, 3, 4, 5, 7, 2)
    max_rel, sqnr, cosine, top1 = struct.unpack_from("<4d", blob, 40)
    assert np.isnan(max_rel) and (sqnr, cosine) == (10.0, 0.95) and np.isnan(top1)
    assert blob[72:96] == bytes(24)
    inputs = np.frombuffer(blob, "<f4", count=2 * 60, offset=96).reshape(2, 3, 4, 5)
    expected = np.frombuffer(blob, "<f4", offset=96 + 4 * 120).reshape(2, 7)
    assert np.array_equal(inputs, data.inputs) and np.array_equal(expected, data.expected)
    back = decode(blob)
    assert back.thresholds() == data.thresholds() and back.rule == "int8"
    assert np.array_equal(back.inputs, data.inputs)


@pytest.mark.parametrize("damage", ["truncated", "magic", "version", "dims", "rule"])
def test_damaged_files_are_refused(damage):
    blob = bytearray(encode(CheckData(np.zeros((1, 3, 2, 2), np.float32),
                                      np.ones((1, 4), np.float32), "fp32", max_rel_diff=1e-4)))
    if damage == "truncated":
        blob = blob[:-3]
    elif damage == "magic":
        blob[:8] = b"NOTCHECK"
    elif damage == "version":
        blob[8:12] = struct.pack("<I", 9)
    elif damage == "dims":
        blob[16:20] = struct.pack("<I", 0)
    else:
        blob[40:48] = struct.pack("<d", float("nan"))  # fp32 rule without its tolerance
    with pytest.raises(CheckFileError):
        decode(bytes(blob))


def test_a_lone_check_file_is_replaced_only_when_ours(tmp_path):
    artifact = tmp_path / "m.onnx"
    check_path(artifact).write_bytes(encode(CheckData(
        np.zeros((1, 3, 2, 2), np.float32), np.ones((1, 4), np.float32), "fp32",
        max_rel_diff=1e-4)))
    check_overwrite(artifact, {"model": "m"}, False)  # ours, its artifact gone: replaceable
    check_path(artifact).write_text("the user's notes")
    with pytest.raises(ExportError, match=r"m\.onnx\.check\.bin exists and was not written by"):
        check_overwrite(artifact, {"model": "m"}, False)


# --- every format's check file, in its runtime --------------------------------------------


def test_every_artifact_has_its_check_file(exported):
    for fmt in FP32_FORMATS:
        precisions = ["fp32"] + (["int8"] if fmt in INT8_FORMATS else [])
        for precision in precisions:
            artifact = _artifact(exported, fmt, precision)
            doc = read_sidecar(artifact)
            entry = doc["check"]
            assert entry["file"] == check_path(artifact).name
            assert entry["sha256"] == sha256_file(check_path(artifact))
            data = read_check_file(check_path(artifact))
            assert data.input_shape == doc["input"]["shape"] == entry["input_shape"]
            assert data.output_shape == doc["output"]["shape"] == [1, 1000]
            assert entry["rule"] == ("int8" if precision == "int8" else "fp32")
            # exactly the inputs verified on: fp32 the 4 bundled photos and one Gaussian input,
            # int8 the images of its calibration folder (the 4 bundled photos)
            assert entry["inputs"] == len(data.inputs) == (4 if precision == "int8" else 5)
            if precision == "int8":  # untrained weights: top-1 agreement is not judged
                assert data.min_top1_agreement is None and data.min_sqnr_db == 10.0


@pytest.mark.parametrize("precision", ["fp32", "int8"])
@pytest.mark.parametrize("fmt", ["pte", "onnx", "tflite"])
def test_check_file_round_trips_in_its_runtime(exported, fmt, precision):
    if fmt not in FP32_FORMATS:
        pytest.skip("the LiteRT exporter or runtime is not installed")
    artifact = _artifact(exported, fmt, precision)
    doc = read_sidecar(artifact)
    row = run_check(artifact)
    assert row.status == doc["verification"]["status"] == "passed", row
    assert row.inputs == doc["check"]["inputs"]
    exported_metrics = doc["check"]["metrics"]
    # the same runtime on the same inputs, here as at export: the same numbers
    assert row.metrics["max_abs_diff"] == pytest.approx(exported_metrics["max_abs_diff"],
                                                        rel=1e-3, abs=1e-6)
    assert row.metrics["top1_agreement"] == exported_metrics["top1_agreement"]


def test_coreml_check_needs_macos_but_its_file_is_checked(exported):
    artifact = _artifact(exported, "coreml")
    row = run_check(artifact)
    if row.status == "skipped":
        assert "macOS" in row.message and row.inputs == 5  # read, sha256 and shapes checked
    else:  # on macOS the numeric check runs, with the fp16 tolerance
        assert row.status == "passed", row
    assert read_check_file(check_path(artifact)).max_rel_diff == 1e-2


def test_cli_checks_a_folder(exported, capsys):
    code, out, err = _cli(capsys, "--check", exported)
    assert code == 0, err
    for fmt in ("pte", "onnx"):
        assert _artifact(exported, fmt, "int8").name in out
    assert out.count(" passed") == len(FP32_FORMATS) - 1 + len(INT8_FORMATS)


# --- bad check files: one line, exit 2, nothing changed -----------------------------------


def _bad(capsys, artifact, match):
    before = _tree(artifact.parent)
    code, out, err = _cli(capsys, "--check", artifact)
    assert code == 2, (out, err)
    assert err.count("\n") == 1 and "Traceback" not in err and match in err, err
    assert _tree(artifact.parent) == before
    return out


def test_corrupted_check_file_is_detected_by_its_sha256(exported, tmp_path, capsys):
    artifact = _copy(_artifact(exported, "pte"), tmp_path / "a")
    blob = bytearray(check_path(artifact).read_bytes())
    blob[200] ^= 0x01  # one bit of one input
    check_path(artifact).write_bytes(bytes(blob))
    out = _bad(capsys, artifact, "does not match the sha256 its sidecar records")
    assert "error" in out


def test_check_file_of_other_shapes_is_refused(exported, tmp_path, capsys):
    artifact = _copy(_artifact(exported, "onnx"), tmp_path / "a")
    _rewrite_check(artifact, encode(CheckData(np.zeros((1, 3, 32, 32), np.float32),
                                              np.zeros((1, 10), np.float32), "fp32",
                                              max_rel_diff=1e-4)))
    _bad(capsys, artifact, "holds inputs [1, 3, 32, 32]")


def test_truncated_check_file_is_refused(exported, tmp_path, capsys):
    artifact = _copy(_artifact(exported, "onnx"), tmp_path / "a")
    _rewrite_check(artifact, check_path(artifact).read_bytes()[:-40])
    _bad(capsys, artifact, "truncated or damaged")


def test_wrong_expected_outputs_fail_the_check(exported, tmp_path, capsys):
    artifact = _copy(_artifact(exported, "onnx"), tmp_path / "a")
    data = read_check_file(check_path(artifact))
    data.expected = data.expected + 0.5  # not what the model computes
    _rewrite_check(artifact, encode(data))
    code, out, err = _cli(capsys, "--check", artifact)
    assert code == 1 and "failed" in out and "1 of 1 artifact(s) failed" in err, (out, err)


def test_artifact_without_check_file_says_so(exported, tmp_path, capsys):
    artifact = _copy(_artifact(exported, "onnx"), tmp_path / "a")
    check_path(artifact).unlink()
    code, out, err = _cli(capsys, "--check", artifact)
    assert code == 1 and "no check file" in out, (out, err)
    assert "no artifact was checked" in err and err.count("\n") == 1
    row = run_check(artifact)
    assert row.status == "no check file" and row.message.endswith("is missing"), row
    doc = read_sidecar(artifact)
    del doc["check"]  # a sidecar from before check files
    sidecar_path(artifact).write_text(json.dumps(doc))
    row = run_check(artifact)
    assert row.status == "no check file" and "exported before check files" in row.message


def test_check_of_a_path_that_is_not_an_artifact(tmp_path, capsys):
    code, out, err = _cli(capsys, "--check", tmp_path / "nothing.pte")
    assert code == 2 and err == f"error: artifact not found: {tmp_path / 'nothing.pte'}\n"
    (tmp_path / "x.onnx").write_bytes(b"onnx?")
    code, out, err = _cli(capsys, "--check", tmp_path / "x.onnx")
    assert code == 2 and "has no coordatt sidecar" in err and err.count("\n") == 1
