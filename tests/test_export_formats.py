"""A small MobileNetV2-CA exported to every format: names, sidecars, one delegate, ONNX and
Core ML structure, each verified against eager PyTorch."""

import hashlib
import json

import pytest
import torch

from coordatt.export.pipeline import ExportConfig, export, plan
from coordatt.export.pte import inspect_pte, run_pte
from coordatt.export.sidecar import SCHEMA, sidecar_path


@pytest.fixture(scope="module")
def small_export(tmp_path_factory):
    """MobileNetV2-CA 0.5x at 96x96 exported to pte, onnx and coreml, verified (shared by the
    export and bench tests: lowering is the slow part of the suite)."""
    from coordatt.export.pipeline import ExportConfig

    out = tmp_path_factory.mktemp("small_export")
    config = ExportConfig(width_mult=0.5, input_size=(96, 96), output_dir=out)
    results = export(config, ["all"], progress=False)
    return config, {r.target.format: r for r in results}


def _sha(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_names_explain_the_artifact(small_export):
    config, results = small_export
    names = {fmt: r.target.path.name for fmt, r in results.items()}
    assert names == {"pte": "mobilenetv2_ca_050_xnnpack_fp32_96x96.pte",
                     "onnx": "mobilenetv2_ca_050_onnx_fp32_96x96.onnx",
                     "tflite": "mobilenetv2_ca_050_litert_fp32_96x96.tflite",
                     "coreml": "mobilenetv2_ca_050_mlprogram_fp16_96x96.mlpackage"}
    full = plan(ExportConfig(output_dir=config.output_dir, quantize="int8"), ["pte"])
    assert full[0].path.name == "mobilenetv2_ca_100_xnnpack_int8.pte"
    # --format all with int8: every format that has an int8 path, and only those
    int8 = plan(ExportConfig(output_dir=config.output_dir, quantize="int8"), ["all"])
    assert [t.path.name for t in int8] == ["mobilenetv2_ca_100_xnnpack_int8.pte",
                                           "mobilenetv2_ca_100_onnx_int8.onnx",
                                           "mobilenetv2_ca_100_litert_int8.tflite"]
    with pytest.raises(ValueError, match="int8 has no path for --format coreml"):
        plan(ExportConfig(output_dir=config.output_dir, quantize="int8"), ["pte", "coreml"])


def test_sidecars(small_export):
    config, results = small_export
    for fmt, r in results.items():
        doc = json.loads(sidecar_path(r.target.path).read_text())
        assert doc["schema"] == SCHEMA and doc["format"] == fmt
        assert doc["artifact"] == r.target.path.name
        assert doc["model"] == "mobilenetv2_ca" and doc["width_mult"] == 0.5
        assert doc["input"] == {"name": "image", "shape": [1, 3, 96, 96], "dtype": "float32",
                                "layout": "NCHW", "color": "RGB"}
        assert doc["output"]["name"] == "logits" and doc["output"]["shape"] == [1, 1000]
        assert doc["preprocess"]["crop"] == [96, 96] and doc["preprocess"]["resize"] == [110, 110]
        assert doc["preprocess"]["mean"] == [0.485, 0.456, 0.406]
        assert doc["labels_source"] == "imagenet-1k" and len(doc["labels"]) == 1000
        assert doc["labels"][281].startswith("tabby") and doc["weights"]["pretrained"] is False
        assert doc["name"] == "mobilenetv2_ca" and doc["num_classes"] == 1000
        assert doc["versions"]["torch"].startswith("2.13.0")
        assert {"executorch", "onnx", "coremltools", "onnxruntime", "litert-torch",
                "ai-edge-litert"} <= set(doc["versions"])
        assert doc["size_bytes"] == r.size_bytes > 100_000
        if r.target.path.is_file():
            assert doc["sha256"] == _sha(r.target.path)
            assert doc["size_bytes"] == r.target.path.stat().st_size
        assert doc["verification"]["status"] in ("passed", "spec-only")
    assert not list(config.output_dir.glob(".tmp-*"))  # no temporary file left


def test_pte_is_one_delegate_and_matches_eager(small_export):
    _, results = small_export
    r = results["pte"]
    info = inspect_pte(r.target.path.read_bytes())
    assert info["delegates"] == 1 and info["operators"] == [] and info["operator_calls"] == 0
    assert r.report["delegated_ops"] > 400 and r.report["non_delegated_ops"] == 0
    v = r.verification
    assert v["status"] == "passed" and v["inputs"] == 5
    assert v["max_abs_diff"] <= 1e-4 * v["logit_scale"] and v["logit_scale"] > 0.1


def test_pte_independently(small_export):
    """Rebuild the exported model and run the .pte on a new input, outside the pipeline."""
    from coordatt.export.pipeline import build_export_model

    config, results = small_export
    model, _ = build_export_model(config)
    x = torch.randn(1, 3, 96, 96, generator=torch.Generator().manual_seed(7))
    (out,) = run_pte(results["pte"].target.path, [x])
    with torch.no_grad():
        ref = model(x)
    assert (out - ref).abs().max() <= 1e-4 * ref.abs().max()


def test_onnx_file(small_export):
    import onnx
    import onnxruntime as ort

    _, results = small_export
    path = results["onnx"].target.path
    proto = onnx.load(str(path))
    onnx.checker.check_model(proto, full_check=True)
    assert not list(path.parent.glob("*.onnx.data"))  # self-contained
    assert max(o.version for o in proto.opset_import if o.domain in ("", "ai.onnx")) >= 17
    assert [i.name for i in proto.graph.input] == ["image"]
    assert [o.name for o in proto.graph.output] == ["logits"]
    dims = [d.dim_value for d in proto.graph.input[0].type.tensor_type.shape.dim]
    assert dims == [1, 3, 96, 96]  # static
    assert {p.key for p in proto.metadata_props} >= {"model", "width_mult"}
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    assert session.get_outputs()[0].shape == [1, 1000]
    v = results["onnx"].verification
    assert v["status"] == "passed" and v["max_abs_diff"] <= 1e-4 * v["logit_scale"]


def test_tflite_is_one_xnnpack_delegate_with_float_io(small_export):
    from coordatt.export.litert import inspect_tflite

    _, results = small_export
    r = results["tflite"]
    info = inspect_tflite(r.target.path)
    assert info["delegates"] == 1 and info["non_delegated_ops"] == 0
    assert info["delegated_ops"] == info["ops"] > 300
    assert info["input"]["shape"] == [1, 3, 96, 96] and info["input"]["dtype"] == "float32"
    assert info["output"]["shape"] == [1, 1000] and info["output"]["dtype"] == "float32"
    v = r.verification
    assert v["status"] == "passed" and v["runtime"] == "litert" and v["inputs"] == 5
    assert v["max_abs_diff"] <= 1e-4 * v["logit_scale"]


def test_coreml_spec(small_export):
    from coordatt.export.coreml import can_predict, inspect_mlpackage

    _, results = small_export
    r = results["coreml"]
    info = inspect_mlpackage(r.target.path)
    assert info["inputs"] == {"image": [1, 3, 96, 96]}
    assert info["outputs"] == {"logits": [1, 1000]}
    # 52 MobileNetV2 convs + 3 per CoordAtt x 16, all still there; CA's ops converted
    assert info["op_counts"]["conv"] == 52 + 48
    assert info["op_counts"]["avg_pool"] == 32 and info["op_counts"]["sigmoid"] == 32
    assert info["metadata"]["model"] == "mobilenetv2_ca"
    assert info["short_description"].startswith("mobilenetv2_ca 0.5x image classifier, 1000 "
                                                "classes (imagenet-1k labels)")
    expected = "passed" if can_predict() else "spec-only"
    assert r.verification["status"] == expected
    if not can_predict():
        assert "needs macOS" in r.verification["message"]
