"""The own-model path end to end, as a user runs it: a 10-class MobileNetV2-CA fine-tuned by
coordatt-train's library (the trained_net fixture) -> coordatt-export --format all, fp32 and
--quantize int8, with its labels (the trained_artifacts fixture: that export, run once per test
run and shared with the eval, LiteRT and ONNX int8 tests) -> coordatt-bench --artifacts on the
result; the labels are in every sidecar."""

import json

import pytest
import torch

from coordatt.bench.cli import main as bench_main
from coordatt.export.sidecar import read_sidecar

# int8 against fp32 on the trained network, calibrated on its training folder and verified on 8
# images spread over it: measured on 40 validation images SQNR 27 dB, cosine >= 0.996, top-1
# agreement 97.5%; the export's own bars are SQNR >= 10 dB, cosine >= 0.95, top-1 >= 50%.
MIN_INT8_SQNR_DB = 20.0


@pytest.fixture(scope="module")
def exported(trained_artifacts):
    """coordatt-export --format all and --format all --quantize int8 (calibrated on a class-
    subfolder copy of 3 training images a class) of the trained network, with --weights,
    --labels and --name shapes_ca (tests/trained.py: every command exited 0)."""
    return trained_artifacts


def test_every_artifact_carries_the_labels(trained_net, exported):
    names = sorted(p.name for p in exported.iterdir()
                   if not p.name.endswith((".json", ".check.bin")))
    assert names == ["shapes_ca_035_litert_fp32_48x48.tflite",
                     "shapes_ca_035_litert_int8_48x48.tflite",
                     "shapes_ca_035_mlprogram_fp16_48x48.mlpackage",
                     "shapes_ca_035_onnx_fp32_48x48.onnx",
                     "shapes_ca_035_onnx_int8_48x48.onnx",
                     "shapes_ca_035_xnnpack_fp32_48x48.pte",
                     "shapes_ca_035_xnnpack_int8_48x48.pte"]
    for name in names:
        doc = read_sidecar(exported / name)
        assert doc["labels"] == trained_net.labels and doc["labels_source"] == "file"
        assert doc["num_classes"] == 10 and doc["output"]["shape"] == [1, 10]
        assert doc["weights"]["pretrained"] is True
        assert doc["identity"]["weights_sha256"] == doc["weights"]["sha256"]
        assert doc["verification"]["status"] in ("passed", "spec-only"), doc["verification"]
        assert (exported / doc["check"]["file"]).is_file()


def test_int8_agrees_with_fp32_on_the_trained_network(exported):
    v = read_sidecar(exported / "shapes_ca_035_xnnpack_int8_48x48.pte")["verification"]
    assert v["top1_judged"] is True  # trained weights: top-1 agreement is a real check
    assert v["top1_agreement"] >= 0.8 and v["sqnr_db"] >= MIN_INT8_SQNR_DB, v


def test_exported_pte_classifies_like_the_trained_model(trained_net, exported):
    from coordatt.export.pte import run_pte
    from coordatt.preprocess import load_image

    doc = read_sidecar(exported / "shapes_ca_035_xnnpack_fp32_48x48.pte")
    images = trained_net.val_images(per_class=1)
    inputs = [load_image(p, doc["preprocess"]) for p in images]
    outputs = run_pte(exported / "shapes_ca_035_xnnpack_fp32_48x48.pte", inputs)
    model = trained_net.load()
    with torch.no_grad():
        eager = [model(x).argmax().item() for x in inputs]
    predicted = [doc["labels"][o.argmax().item()] for o in outputs]
    assert [doc["labels"][i] for i in eager] == predicted
    truth = [p.parent.name for p in images]
    assert sum(a == b for a, b in zip(predicted, truth)) >= 7, (predicted, truth)


def test_bench_measures_the_exported_folder(exported, tmp_path, capsys):
    code = bench_main(["--artifacts", str(exported), "--iters", "3", "--warmup", "1",
                       "--block-size", "3", "--output-dir", str(tmp_path)])
    assert code == 0, capsys.readouterr().err
    rows = json.loads((tmp_path / "results.json").read_text())["results"]
    by = {r["runtime"]: r for r in rows}
    measured = ("eager", "onnxruntime", "onnxruntime-int8", "executorch-xnnpack",
                "executorch-xnnpack-int8", "litert", "litert-int8")
    assert set(by) >= set(measured)
    for runtime in measured:
        row = by[runtime]
        assert row["error"] is None and len(row["samples_ms"]) == 3, row
        assert row["model"] == "shapes_ca" and row["width_mult"] == 0.35
        assert row["input_size"] == [48, 48]
    assert by["coreml"]["error"].startswith("skipped")
    assert "shapes_ca" in capsys.readouterr().out
