"""int8 .onnx through ONNX Runtime's static quantizer (coordatt/export/onnx_int8.py): the report
and sidecar, agreement with fp32 on a trained network, what ORT makes of the graph, a corrupt
artifact, and nothing left behind in the output folder after success or failure."""

import os
import subprocess
import sys
import textwrap

import pytest
import torch

from coordatt._quiet import quiet
from coordatt.errors import ExportError
from coordatt.export import verify
from coordatt.export.onnx_int8 import DEFAULT_OPTIONS, OrtInt8Options, quantize_onnx
from coordatt.export.pipeline import ExportConfig, export
from coordatt.export.sidecar import read_sidecar
from coordatt.preprocess import load_image, sample_images

onnx = pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")

# int8 against fp32 on the trained network (tests/trained.py), calibrated on 200 images of its
# training folder. Measured: the export's verification (8 training images) SQNR 21.7 dB, cosine
# 0.991, top-1 agreement 100%; 5 validation images a class 23.9 dB, 100%, accuracy 94% as fp32;
# all 200 validation images 24.4 dB, 96%, accuracy 91.5% (fp32 92.5%). Calibrated on 3 training
# images a class (the shared export): all 200 validation images 25.0 dB, 99.5%, 92.0%
# (tests/test_eval.py) with float CA poolings; 24.3 dB, 96.0% with CA quantized as depthwise
# convs (benchmarks/ca_cost_levers.md); 24.2 dB, 96.0% with its h-swish as t * relu6(t + 3)
# too, the default since (benchmarks/ca_levers/onnxruntime.md). The export's own bars
# (verify.INT8_*) are SQNR >= 10 dB, cosine >= 0.95, top-1 agreement >= 50%.
MIN_SQNR_DB = 18.0
MIN_TOP1_AGREEMENT = 0.9
MAX_ACCURACY_DROP = 0.1


def _tree(folder) -> list[str]:
    """Every name under ``folder``, hidden ones included."""
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


@pytest.fixture(scope="module")
def trained_int8(trained_artifacts):
    """The trained network's int8 .onnx from the run's shared export (coordatt-export --format
    all --quantize int8, calibrated on 3 training images a class: tests/trained.py), as an
    ExportResult-like view: its path, size and its sidecar's report."""
    from types import SimpleNamespace

    from trained import trained_artifact

    path = trained_artifact(trained_artifacts, "onnx", "int8")
    doc = read_sidecar(path)
    return SimpleNamespace(target=SimpleNamespace(path=path), size_bytes=doc["size_bytes"],
                           report=doc["export"]["report"])


def test_sidecar_report_and_verification(trained_int8):
    r = trained_int8
    path = r.target.path
    assert path.name == "shapes_ca_035_onnx_int8_48x48.onnx"
    doc = read_sidecar(path)
    assert (doc["format"], doc["backend"], doc["precision"]) == ("onnx", "onnx", "int8")
    assert doc["size_bytes"] == r.size_bytes == path.stat().st_size
    report = doc["export"]["report"]  # (the sidecar's report is what export() returned:
    # tests/test_export_litert.py checks that)
    graph = onnx.load(str(path))
    ops = [n.op_type for n in graph.graph.node]
    assert report["nodes"] == len(ops) > report["fp32_nodes"]
    assert report["op_types"] == sorted(set(ops))
    assert report["qdq_nodes"] == ops.count("QuantizeLinear") + ops.count("DequantizeLinear") > 0
    assert report["calibration"].startswith("30 images from ")
    assert report["calibration_method"] == "MinMax"
    assert report["quantizer"] == DEFAULT_OPTIONS.report()
    assert report["quantizer"]["activation_type"] == "QUInt8"
    assert r.size_bytes < 0.5 * report["fp32_size_bytes"]  # int8 weights
    v = doc["verification"]
    assert v["status"] == "passed" and v["runtime"] == "onnxruntime-int8", v
    assert v["top1_judged"] is True and v["inputs"] == 8  # trained: top-1 is judged
    assert v["sqnr_db"] >= MIN_SQNR_DB and v["min_cosine"] >= verify.INT8_MIN_COSINE, v
    assert v["top1_agreement"] >= MIN_TOP1_AGREEMENT, v
    assert "vs_quantized_pytorch" not in v  # ORT's quantizer has no PyTorch twin
    # the fp32 export's metadata (model, name, producer, ...) is the int8 model's
    meta = {p.key: p.value for p in graph.metadata_props}
    assert meta["model"] == "mobilenetv2_ca" and meta["name"] == "shapes_ca"
    assert meta["producer"] == "coordatt-export" and meta["num_classes"] == "10"
    assert meta["width_mult"] == "0.35"


def test_int8_agrees_with_fp32_on_the_trained_network(trained_net, trained_int8):
    from coordatt.runtime import run_artifact

    doc = read_sidecar(trained_int8.target.path)
    images = trained_net.val_images(per_class=5)
    inputs = [load_image(p, doc["preprocess"]) for p in images]
    model = trained_net.load()
    with torch.no_grad():
        reference = [model(x) for x in inputs]
    outputs = run_artifact("onnxruntime-int8", trained_int8.target.path, inputs)
    m = verify.compare_logits(reference, outputs)
    assert m["sqnr_db"] >= MIN_SQNR_DB and m["top1_agreement"] >= MIN_TOP1_AGREEMENT, m
    truth = torch.tensor([trained_net.labels.index(p.parent.name) for p in images])
    fp32_acc = (torch.cat(reference).argmax(1) == truth).float().mean().item()
    int8_acc = (torch.cat(outputs).argmax(1) == truth).float().mean().item()
    assert int8_acc >= fp32_acc - MAX_ACCURACY_DROP, (int8_acc, fp32_acc)


def test_quantized_where_it_is_fast(trained_int8):
    """Every Conv and the gates' Mul/Sigmoid read int8 (DequantizeLinear inputs); CA's poolings
    stay in float, and ONNX Runtime runs no float Conv and no QLinearAveragePool."""
    import numpy as np

    from coordatt.runtime import open_session

    graph = onnx.load(str(trained_int8.target.path)).graph
    producer = {out: n.op_type for n in graph.node for out in n.output}
    consumers: dict[str, list[str]] = {}
    for n in graph.node:
        for name in n.input:
            consumers.setdefault(name, []).append(n.op_type)
    for n in graph.node:
        if n.op_type in ("Conv", "Mul", "Sigmoid"):
            assert producer.get(n.input[0]) == "DequantizeLinear", n.name
        if n.op_type == "AveragePool":
            assert producer.get(n.input[0]) == "DequantizeLinear", n.name
            assert "QuantizeLinear" not in consumers[n.output[0]], n.name
    h, w = read_sidecar(trained_int8.target.path)["input"]["shape"][2:]
    with open_session("onnxruntime-int8", trained_int8.target.path, threads=1) as session:
        rows = session.profile(np.zeros((1, 3, h, w), np.float32), 2)
    kernels = {row["op"] for row in rows}
    assert "QLinearConv" in kernels and not kernels & {"Conv", "FusedConv",
                                                       "QLinearAveragePool"}, kernels


def test_output_folder_holds_only_the_artifacts(trained_int8):
    """Each artifact with its check file and sidecar, and nothing else: no temporary left by
    the quantizer (or any other export into the folder)."""
    folder = trained_int8.target.path.parent
    artifacts = sorted(p.name[:-len(".json")] for p in folder.glob("*.json"))
    assert trained_int8.target.path.name in artifacts and len(artifacts) == 7
    assert _tree(folder) == sorted(
        [*artifacts, *(f"{a}.check.bin" for a in artifacts), *(f"{a}.json" for a in artifacts),
         *(str(p.relative_to(folder)) for a in artifacts if (folder / a).is_dir()
           for p in (folder / a).rglob("*"))])


CORRUPT = textwrap.dedent("""
    import sys
    import numpy as np
    from coordatt.runtime import run_artifact
    try:
        run_artifact("onnxruntime-int8", sys.argv[1], [np.zeros((1, 3, 48, 48), np.float32)])
    except Exception as e:
        print(type(e).__name__, str(e)[:200])
        sys.exit(3)
    sys.exit(0)
""")


@pytest.mark.parametrize("damage", ["truncated", "dangling_input"])
def test_corrupt_artifact_raises_instead_of_crashing(trained_int8, tmp_path, damage):
    """Run in a child process: a crash there (a signal) is a failure here, not a dead run."""
    data = trained_int8.target.path.read_bytes()
    bad = tmp_path / "bad.onnx"
    if damage == "truncated":
        bad.write_bytes(data[: len(data) // 2])
    else:  # a well-formed protobuf whose first DequantizeLinear is gone
        model = onnx.load_from_string(data)
        first = next(n for n in model.graph.node if n.op_type == "DequantizeLinear")
        model.graph.node.remove(first)
        bad.write_bytes(model.SerializeToString())
    proc = subprocess.run([sys.executable, "-c", CORRUPT, str(bad)], capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 3, (proc.returncode, proc.stdout, proc.stderr[-2000:])


@pytest.fixture(scope="module")
def tiny_fp32():
    """A 3-block MobileNetV2-CA at 32x32 as fp32 .onnx bytes, and calibration inputs."""
    from coordatt.export.onnx import export_onnx
    from coordatt.mobilenetv2 import MobileNetV2

    torch.manual_seed(0)
    model = MobileNetV2(coord_att=True, settings=((1, 16, 1, 1), (6, 24, 2, 2)),
                        num_classes=10).eval()
    with quiet():
        data, _ = export_onnx(model, torch.zeros(1, 3, 32, 32), {"model": "tiny", "name": "t"})
    g = torch.Generator().manual_seed(0)
    return data, [torch.randn(1, 3, 32, 32, generator=g) for _ in range(2)]


def test_quantize_onnx_cleans_up_and_keeps_metadata(tiny_fp32, tmp_path):
    data, calibration = tiny_fp32
    report = quantize_onnx(data, calibration, tmp_path / "t.onnx")
    assert _tree(tmp_path) == ["t.onnx"]
    model = onnx.load(str(tmp_path / "t.onnx"))
    assert {p.key: p.value for p in model.metadata_props} == {"model": "tiny", "name": "t"}
    assert report["qdq_nodes"] > 0 and report["quantizer"]["float_op_types"] == [
        "AveragePool", "Transpose", "Concat"]


def test_quantize_onnx_drops_the_exporters_node_debug_metadata(tmp_path):
    # the dynamo exporter's per-node stack traces survived quant_pre_process for CA with the
    # relu6 h-swish: the trained network's int8 .onnx was 54% of its fp32 one instead of 39%
    from coordatt.ca_variants import with_ca_variant
    from coordatt.export.onnx import INT8_CA_FORMULATION, export_onnx
    from coordatt.mobilenetv2 import MobileNetV2

    torch.manual_seed(0)
    model = MobileNetV2(coord_att=True, settings=((1, 16, 1, 1), (6, 24, 2, 2)),
                        num_classes=10).eval()
    x = torch.zeros(1, 3, 32, 32)
    with quiet():
        data, _ = export_onnx(with_ca_variant(model, x, **INT8_CA_FORMULATION), x, {})
        quantize_onnx(data, [torch.randn(1, 3, 32, 32) for _ in range(2)], tmp_path / "t.onnx")
    graph = onnx.load(str(tmp_path / "t.onnx")).graph
    assert not [n.name for n in graph.node if n.metadata_props]


@pytest.mark.parametrize("error", [RuntimeError, KeyboardInterrupt])
def test_quantize_onnx_failure_leaves_nothing(tiny_fp32, tmp_path, monkeypatch, error):
    import onnxruntime.quantization as quantization

    data, calibration = tiny_fp32

    def broken(model_input, model_output, *args, **kwargs):
        with open(model_output, "wb") as f:
            f.write(b"half a model")
        raise error("boom")

    monkeypatch.setattr(quantization, "quantize_static", broken)
    dest = tmp_path / f".tmp-{os.getpid()}-0000-t.onnx"  # as the pipeline names it
    with pytest.raises(ExportError if error is RuntimeError else error,
                       match="quantizer failed: RuntimeError: boom" if error is RuntimeError
                       else None):
        quantize_onnx(data, calibration, dest)
    assert _tree(tmp_path) == []


def test_export_failure_leaves_nothing(tiny_model, tmp_path, monkeypatch):
    """A verification failure after quantizing: no artifact, sidecar or temporary is left."""
    from coordatt import runtime

    monkeypatch.setattr(runtime, "run_artifact",
                        lambda name, path, inputs, **kw: [torch.full((1, 1000), float("nan"))
                                                          for _ in inputs])
    out = tmp_path / "out"
    out.mkdir()
    config = ExportConfig(model=tiny_model, input_size=(32, 32), quantize="int8",
                          calibration_dir=sample_images()[0].parent, output_dir=out)
    with pytest.raises(ExportError, match="verification failed"):
        export(config, ["onnx"], progress=False)
    assert _tree(out) == []


def test_bad_options_name_the_choices():
    with pytest.raises(ValueError, match="QUInt8, QInt8"):
        OrtInt8Options(activation_type="int8")
    with pytest.raises(ValueError, match="MinMax, Entropy, Percentile"):
        OrtInt8Options(calibration_method="KL")
