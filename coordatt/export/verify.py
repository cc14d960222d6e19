"""Comparing an artifact's outputs with eager PyTorch: the numbers a verification reports."""

from __future__ import annotations

import math

import torch

__all__ = ["compare_logits", "check_fp32", "check_int8", "not_finite", "FP32_REL_TOL",
           "FP16_REL_TOL", "INT8_MIN_COSINE", "INT8_MIN_SQNR_DB", "INT8_MIN_TOP1_AGREEMENT",
           "INT8_RUNTIME_MIN_COSINE", "LITERT_INT8_RUNTIME_MIN_COSINE"]

# fp32 artifacts: max |diff| <= 1e-4 x the reference logits' scale (max |logit|)
FP32_REL_TOL = 1e-4
# fp16 programs (Core ML's default): the same rule with fp16's precision
FP16_REL_TOL = 1e-2
# int8 against fp32 logits. Measured on MobileNetV2-CA with BN statistics estimated on photos
# (0.5x/96^2 and 1.0x/224^2, calibrated on 4 photos): SQNR 17-24 dB, cosine 0.99+. The bars
# leave room for other calibration sets without letting a broken quantization through
# (a wrong scale or a dropped layer gives SQNR < 5 dB, cosine < 0.8).
INT8_MIN_SQNR_DB = 10.0
INT8_MIN_COSINE = 0.95
INT8_MIN_TOP1_AGREEMENT = 0.5
# the int8 .pte against the quantized PyTorch program it was lowered from (XNNPACK's int8 kernels
# round differently from PT2E's reference ops; measured cosine: see tests/test_export_int8.py)
INT8_RUNTIME_MIN_COSINE = 0.99
# the int8 .tflite against the quantized PyTorch program: litert-torch's converter turns the
# dequantize -> op -> quantize patterns it leaves around avg_pool2d and hardswish (which its
# quantizer does not annotate) into int8 ops, so the artifact runs CA's poolings in int8 where the
# program runs them in fp32. Measured on the trained test network, 40 images: min cosine 0.971 vs
# the program, 0.992 vs fp32 (closer to fp32 than the program itself, 0.975). The fp32 bars
# still apply in full.
LITERT_INT8_RUNTIME_MIN_COSINE = 0.95


def compare_logits(reference: list[torch.Tensor], outputs: list[torch.Tensor]) -> dict:
    """Max abs diff (absolute and relative to the reference's scale), SQNR in dB, cosine
    similarity and top-1 agreement of ``outputs`` against ``reference``."""
    ref = torch.cat([r.detach().reshape(1, -1) for r in reference]).double()
    out = torch.cat([o.detach().reshape(1, -1) for o in outputs]).double()
    if ref.shape != out.shape:
        raise ValueError(f"output shape {tuple(out.shape)} differs from {tuple(ref.shape)}")
    scale = ref.abs().max().item()
    diff = (ref - out).abs().max().item()
    noise = ((ref - out) ** 2).sum().item()
    signal = (ref**2).sum().item()
    sqnr = math.inf if noise == 0 else 10 * math.log10(signal / noise) if signal > 0 else -math.inf
    cosine = torch.nn.functional.cosine_similarity(ref, out, dim=1).min().item()
    top1 = (ref.argmax(1) == out.argmax(1)).double().mean().item()
    return {k: (v if not isinstance(v, float) or math.isfinite(v) else None) for k, v in {
        "inputs": len(reference),
        "logit_scale": scale,
        "max_abs_diff": diff,
        "max_rel_diff": diff / scale if scale > 0 else math.inf,
        "sqnr_db": sqnr,
        "min_cosine": cosine,
        "top1_agreement": top1,
    }.items()}  # JSON has no infinity: an exact match has sqnr_db None


def not_finite(outputs) -> dict | None:
    """A failed verification when the artifact's outputs hold NaN/Inf (eager's are finite)."""
    if all(bool(torch.isfinite(o).all()) for o in outputs):
        return None
    return {"status": "failed", "reference": "eager PyTorch fp32",
            "message": "the artifact's outputs hold NaN/Inf values where eager PyTorch's are "
                       "finite"}


def check_fp32(reference, outputs, rel_tol: float = FP32_REL_TOL) -> dict:
    """Max abs diff within ``rel_tol`` x the reference logits' scale; ``thresholds`` in the
    result says so in numbers (a check file records them)."""
    if (failed := not_finite(outputs)) is not None:
        return failed
    metrics = compare_logits(reference, outputs)
    ok = metrics["max_abs_diff"] <= rel_tol * max(metrics["logit_scale"], 1e-30)
    return {"status": "passed" if ok else "failed", "reference": "eager PyTorch fp32", **metrics,
            "tolerance": f"max_abs_diff <= {rel_tol:g} x logit_scale",
            "thresholds": {"rule": "fp32", "max_rel_diff": rel_tol},
            "message": f"max abs diff {metrics['max_abs_diff']:.3g} at logit scale "
                       f"{metrics['logit_scale']:.3g}"}


def check_int8(reference, quantized_reference, outputs, trained: bool, *,
               min_sqnr_db: float = INT8_MIN_SQNR_DB, min_cosine: float = INT8_MIN_COSINE,
               min_top1_agreement: float = INT8_MIN_TOP1_AGREEMENT,
               runtime_min_cosine: float = INT8_RUNTIME_MIN_COSINE) -> dict:
    """The artifact must reproduce the quantized PyTorch program it was made from (when there is
    one: ONNX Runtime's quantizer works on the .onnx, with no PyTorch twin), and agree with fp32
    by SQNR and cosine. Top-1 agreement is judged with trained weights only: an untrained head's
    logits are near ties, whose order any noise flips."""
    if (failed := not_finite(outputs)) is not None:
        return failed
    m = compare_logits(reference, outputs)
    sqnr = m["sqnr_db"] if m["sqnr_db"] is not None else float("inf")  # None: identical
    top1_ok = m["top1_agreement"] >= min_top1_agreement
    quality = sqnr >= min_sqnr_db and m["min_cosine"] >= min_cosine
    message = (f"SQNR {sqnr:.1f} dB, cosine {m['min_cosine']:.4f}, top-1 agreement "
               f"{m['top1_agreement']:.0%} vs fp32")
    tolerance = (f"vs fp32: sqnr_db >= {min_sqnr_db:g}, min_cosine >= "
                 f"{min_cosine:g}, top1_agreement >= {min_top1_agreement:g} "
                 f"(trained weights)")
    thresholds = {"rule": "int8", "min_sqnr_db": min_sqnr_db, "min_cosine": min_cosine,
                  "min_top1_agreement": min_top1_agreement if trained else None}
    extra: dict = {}
    faithful = True
    if quantized_reference is not None:
        runtime = compare_logits(quantized_reference, outputs)
        faithful = runtime["min_cosine"] >= runtime_min_cosine
        message += f"; cosine {runtime['min_cosine']:.4f} vs the quantized PyTorch program"
        tolerance = (f"vs quantized PyTorch: min_cosine >= {runtime_min_cosine:g}; "
                     + tolerance)
        extra["vs_quantized_pytorch"] = runtime
    ok = faithful and quality and (top1_ok or not trained)
    if not trained:
        message += "; untrained weights: top-1 not judged"
    return {"status": "passed" if ok else "failed", "reference": "eager PyTorch fp32", **m,
            "top1_judged": trained, **extra, "tolerance": tolerance, "thresholds": thresholds,
            "message": message}
