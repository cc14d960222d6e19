"""Pipeline mechanics on a 3-block CA network: determinism, the portable backend, overwrite
rules, atomic writes."""


import pytest

from coordatt.errors import ExportError
from coordatt.export.pipeline import ExportConfig, export
from coordatt.export.pte import inspect_pte
from coordatt.export.sidecar import read_sidecar, sidecar_path


def test_exports_are_byte_identical(tiny_model, tmp_path):
    a = export(ExportConfig(model=tiny_model, input_size=(64, 64), output_dir=tmp_path / "a"),
               ["pte", "onnx"], progress=False)
    b = export(ExportConfig(model=tiny_model, input_size=(64, 64), output_dir=tmp_path / "b"),
               ["pte", "onnx"], progress=False)
    for ra, rb in zip(a, b):
        assert ra.target.path.read_bytes() == rb.target.path.read_bytes(), ra.target.path.name


def test_portable_backend(tiny_artifacts):
    """ExportConfig(backend="portable") of tiny_ca at 64x64: the run's shared export."""
    path = tiny_artifacts / "tiny_ca_100_portable_fp32_64x64.pte"
    info = inspect_pte(path.read_bytes())
    assert info["delegates"] == 0 and "aten::convolution.out" in info["operators"]
    doc = read_sidecar(path)
    assert (doc["backend"], doc["precision"]) == ("portable", "fp32")
    assert doc["verification"]["status"] == "passed"


def test_overwrite_rules(tiny_model, tmp_path):
    config = ExportConfig(model=tiny_model, input_size=(64, 64), output_dir=tmp_path)
    (first,) = export(config, ["onnx"], progress=False)
    path = first.target.path
    export(config, ["onnx"], progress=False)  # the same export again may replace its own file
    other = ExportConfig(model=tiny_model, input_size=(64, 64), output_dir=tmp_path,
                         calibration_dir=None, width_mult=None, quantize="none")
    assert other == config
    # a file the user has, with the artifact's name, is never replaced without being asked
    path.write_bytes(b"the user's own file")
    sidecar_path(path).unlink()
    with pytest.raises(ExportError, match="exists and was not written by coordatt-export"):
        export(config, ["onnx"], progress=False)
    assert path.read_bytes() == b"the user's own file"
    export(ExportConfig(**{**config.__dict__, "overwrite": True}), ["onnx"], progress=False)
    assert path.read_bytes() != b"the user's own file"


def test_failure_leaves_no_partial_artifact(tiny_model, tmp_path, monkeypatch):
    from coordatt.export import onnx as onnx_target

    def broken(*args, **kwargs):
        raise RuntimeError("runtime crashed")

    monkeypatch.setattr(onnx_target, "run_onnx", broken)
    config = ExportConfig(model=tiny_model, input_size=(64, 64), output_dir=tmp_path)
    with pytest.raises(RuntimeError, match="runtime crashed"):
        export(config, ["onnx"], progress=False)
    assert list(tmp_path.iterdir()) == []


def test_failed_verification_leaves_no_artifact(tiny_model, tmp_path, monkeypatch):
    from coordatt.export import onnx as onnx_target

    real = onnx_target.run_onnx
    monkeypatch.setattr(onnx_target, "run_onnx", lambda p, xs: [y + 1.0 for y in real(p, xs)])
    config = ExportConfig(model=tiny_model, input_size=(64, 64), output_dir=tmp_path)
    with pytest.raises(ExportError, match="verification failed: max abs diff 1"):
        export(config, ["onnx"], progress=False)
    assert list(tmp_path.iterdir()) == []
