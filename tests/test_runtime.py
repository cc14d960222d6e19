"""The runtime layer (coordatt.runtime): one interface over every runtime, used by export
verification, the bench workers and evaluation."""

import subprocess
import sys

import numpy as np
import pytest
import torch

from coordatt import runtime
from coordatt.errors import MissingBackend


def test_registry_names_formats_and_choices():
    assert set(runtime.NAMES) == {
        "eager", "executorch-xnnpack", "executorch-xnnpack-int8", "executorch-portable",
        "onnxruntime", "onnxruntime-int8", "onnxruntime-xnnpack", "onnxruntime-xnnpack-int8",
        "litert", "litert-int8", "coreml"}
    assert "executorch-portable" not in runtime.DEFAULT_RUNTIMES
    with pytest.raises(ValueError, match=r"unknown runtime 'tflite'; choose from eager, "):
        runtime.get("tflite")
    # a sidecar's format/backend/precision names the runtime that runs it
    assert runtime.runtime_for("tflite", "litert", "int8") == "litert-int8"
    assert runtime.runtime_for("onnx", "onnx", "int8") == "onnxruntime-int8"
    assert runtime.runtime_for("pte", "portable", "fp32") == "executorch-portable"
    assert runtime.runtime_for("coreml", "mlprogram", "fp32") == "coreml"
    assert runtime.runtime_for("pte", "vulkan", "fp32") is None
    for spec in runtime.RUNTIMES.values():
        if spec.format is not None:  # every artifact runtime names the extra that installs it
            assert spec.extra in {"executorch", "onnx", "litert", "coreml"}


def test_open_session_argument_errors(tmp_path):
    with pytest.raises(ValueError, match="eager runtime runs a model"):
        runtime.open_session("eager", tmp_path / "m.pte")
    with pytest.raises(ValueError, match="litert runs an artifact"):
        runtime.open_session("litert")
    with pytest.raises(ValueError, match="threads must be a positive integer"):
        runtime.open_session("onnxruntime", tmp_path / "m.onnx", threads=0)


def test_missing_backend_is_an_install_hint(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "ai_edge_litert.interpreter", None)  # import fails
    session = runtime.open_session("litert", tmp_path / "m.tflite", threads=1)
    with pytest.raises(MissingBackend, match=r'pip install "coordatt\[litert\]"'):
        session.prepare()


@pytest.fixture(scope="module")
def artifacts(tiny_artifacts):
    """The 3-block CA network's fp32 artifacts in every format this host runs (the run's shared
    export, tests/artifact_cache.py), and the eager network."""
    from artifact_cache import TINY_SETTINGS

    from coordatt.mobilenetv2 import MobileNetV2

    paths = {fmt: tiny_artifacts / f"tiny_ca_100_{backend}_fp32_64x64.{fmt}"
             for fmt, backend in (("pte", "xnnpack"), ("onnx", "onnx"), ("tflite", "litert"))}
    torch.manual_seed(0)
    model = MobileNetV2(coord_att=True, settings=TINY_SETTINGS).eval()
    return paths, model


@pytest.mark.parametrize("name,fmt", [("executorch-xnnpack", "pte"), ("onnxruntime", "onnx"),
                                      ("litert", "tflite")])
def test_every_runtime_runs_its_artifact_like_eager(artifacts, name, fmt):
    """Each session loads with a thread count, runs twice identically, closes, loads again."""
    paths, _ = artifacts
    x = np.random.default_rng(0).standard_normal((1, 3, 64, 64)).astype(np.float32)
    session = runtime.open_session(name, paths[fmt], threads=1)
    session.prepare()
    session.load()
    first = session.run(x)
    assert first.dtype == np.float32 and first.shape == (1, 1000)
    np.testing.assert_array_equal(session.run(x), first)
    session.close()
    session.load()
    np.testing.assert_array_equal(session.run(x), first)
    session.close()
    # the same numbers through run_artifact, with torch tensors in and out
    (out,) = runtime.run_artifact(name, paths[fmt], [torch.from_numpy(x)])
    assert isinstance(out, torch.Tensor)
    np.testing.assert_array_equal(out.numpy(), first)


def test_runtimes_agree_with_each_other(artifacts):
    paths, _ = artifacts
    x = torch.randn(1, 3, 64, 64, generator=torch.Generator().manual_seed(1))
    outs = {name: runtime.run_artifact(name, paths[fmt], [x])[0]
            for name, fmt in (("executorch-xnnpack", "pte"), ("onnxruntime", "onnx"),
                              ("litert", "tflite"))}
    ref = outs["executorch-xnnpack"]
    scale = ref.abs().max().item()
    for name, out in outs.items():
        assert (out - ref).abs().max().item() <= 1e-4 * scale, name


def test_eager_session_and_profiles(artifacts):
    paths, model = artifacts
    x = np.zeros((1, 3, 64, 64), np.float32)
    with runtime.open_session("eager", model=model, threads=1) as s:
        assert s.run(x).shape == (1, 1000)
        rows = s.profile(x, 2)
    assert rows and {"op", "calls", "ms", "share"} <= set(rows[0])
    assert any("conv" in r["op"] for r in rows)
    with runtime.open_session("onnxruntime", paths["onnx"], threads=1) as s:
        rows = s.profile(x, 2)
    assert any(r["op"] == "Conv" for r in rows)
    assert sum(r["share"] for r in rows) == pytest.approx(1.0)


@pytest.mark.parametrize("name,fmt", [("executorch-xnnpack", "pte"), ("onnxruntime", "onnx"),
                                      ("litert", "tflite")])
def test_a_corrupt_artifact_is_an_exception_not_a_crash(artifacts, tmp_path, name, fmt):
    paths, _ = artifacts
    bad = tmp_path / paths[fmt].name
    bad.write_bytes(paths[fmt].read_bytes()[:300])  # truncated
    code = (f"from coordatt import runtime\n"
            f"try:\n"
            f"    s = runtime.open_session({name!r}, {str(bad)!r}, threads=1)\n"
            f"    s.prepare(); s.load()\n"
            f"except Exception as e:\n"
            f"    print('refused:', type(e).__name__)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr[-500:]
    assert "refused:" in done.stdout
