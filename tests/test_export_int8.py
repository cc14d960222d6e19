"""int8 .pte through PT2E: one delegate, agreement with fp32 and with the quantized program."""


import pytest
import torch

from coordatt.export.pte import inspect_pte
from coordatt.export.sidecar import read_sidecar


@pytest.fixture(scope="module")
def trained_int8(trained_artifacts):
    """The full-depth MobileNetV2-CA (the trained test network, 0.35x at 48x48) as int8 .pte,
    calibrated on 3 training images a class, and its fp32 .pte: the run's shared export
    (tests/trained.py). Trained weights make the agreement bars mean something; the graph is
    the full network's (17 blocks, 16 with CA), as in any int8 export."""
    from trained import trained_artifact

    return (trained_artifact(trained_artifacts, "xnnpack", "int8"),
            trained_artifact(trained_artifacts, "xnnpack", "fp32"))


def test_int8_one_delegate_and_agreement(trained_int8):
    from coordatt.export import verify

    path, fp32 = trained_int8
    info = inspect_pte(path.read_bytes())
    assert info["delegates"] == 1 and info["operators"] == []
    doc = read_sidecar(path)
    v = doc["verification"]
    assert v["status"] == "passed", v["message"]
    assert v["sqnr_db"] >= verify.INT8_MIN_SQNR_DB and v["min_cosine"] >= verify.INT8_MIN_COSINE
    assert v["vs_quantized_pytorch"]["min_cosine"] >= verify.INT8_RUNTIME_MIN_COSINE
    assert doc["export"]["report"]["calibration"].startswith("30 images from")
    # int8 weights: measured 0.40 of the fp32 .pte at 0.35x (per-channel scales and int32
    # biases weigh more in a narrow network than at 0.5x)
    assert doc["size_bytes"] == path.stat().st_size < 0.45 * fp32.stat().st_size


def test_int8_judgement():
    """Top-1 agreement is judged with trained weights only; the runtime check always."""
    from coordatt.export.verify import check_int8 as _check_int8

    g = torch.Generator().manual_seed(0)
    ref = [torch.randn(1, 1000, generator=g) for _ in range(4)]
    close = [r + 0.05 * torch.randn(1, 1000, generator=g) for r in ref]
    flipped = []
    for r in close:
        f = r.clone()
        f[0, r.argmin()] = r.max() + 1  # a new winner, small change overall
        flipped.append(f)
    assert _check_int8(ref, close, close, trained=True)["status"] == "passed"
    assert _check_int8(ref, flipped, flipped, trained=True)["status"] == "failed"
    assert _check_int8(ref, flipped, flipped, trained=False)["status"] == "passed"
    noisy = [r + 2 * torch.randn(1, 1000, generator=g) for r in ref]
    assert _check_int8(ref, noisy, noisy, trained=False)["status"] == "failed"  # SQNR too low
    assert _check_int8(ref, ref, noisy, trained=False)["status"] == "failed"  # runtime differs
