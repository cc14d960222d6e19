"""Comparing an artifact's outputs with eager PyTorch: the numbers a verification reports."""

from __future__ import annotations

import math

import torch

__all__ = ["compare_logits", "FP32_REL_TOL", "INT8_MIN_COSINE", "INT8_MIN_SQNR_DB",
           "INT8_MIN_TOP1_AGREEMENT"]

# fp32 artifacts: max |diff| <= 1e-4 x the reference logits' scale (max |logit|)
FP32_REL_TOL = 1e-4
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
