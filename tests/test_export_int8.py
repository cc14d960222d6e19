"""int8 .pte through PT2E: one delegate, agreement with fp32 and with the quantized program."""


import pytest
import torch

from coordatt.export.pipeline import ExportConfig, export
from coordatt.export.pte import inspect_pte


@pytest.fixture(scope="module")
def small_int8_export(tmp_path_factory):
    """The same small model as int8 .pte, calibrated on the bundled photos."""
    from coordatt.preprocess import sample_images

    out = tmp_path_factory.mktemp("small_int8")
    config = ExportConfig(width_mult=0.5, input_size=(96, 96), output_dir=out, quantize="int8",
                          calibration_dir=sample_images()[0].parent)
    (result,) = export(config, ["pte"], progress=False)
    return config, result


def test_int8_one_delegate_and_agreement(small_int8_export):
    from coordatt.export import verify

    _, r = small_int8_export
    info = inspect_pte(r.target.path.read_bytes())
    assert info["delegates"] == 1 and info["operators"] == []
    v = r.verification
    assert v["status"] == "passed", v["message"]
    assert v["sqnr_db"] >= verify.INT8_MIN_SQNR_DB and v["min_cosine"] >= verify.INT8_MIN_COSINE
    assert v["vs_quantized_pytorch"]["min_cosine"] >= verify.INT8_RUNTIME_MIN_COSINE
    assert r.report["calibration"].startswith("4 images from")
    assert r.size_bytes < 0.4 * r.report.get("fp32_size_bytes", 8_400_000)  # int8 weights


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
