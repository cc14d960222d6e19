"""Accuracy and agreement of one runtime's outputs, accumulated image by image (timm's
``validate.py`` numbers, plus agreement with eager PyTorch as AI Hub reports it per precision).

Per image: top-1 and top-5 correct; against the eager fp32 logits of the same input, top-1
agreement, cosine similarity, SQNR (10 log10 of signal over error energy) and max abs diff.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["Tally", "TOP_K"]

TOP_K = 5


class Tally:
    """One row's running numbers; ``summary()`` gives the row's fields (fractions in 0..1)."""

    def __init__(self) -> None:
        self.images = 0
        self.top1 = 0
        self.top5 = 0
        self.compared = 0  # images with an eager reference
        self.agree = 0
        self.cosines: list[float] = []
        self.sqnrs: list[float] = []  # inf where identical
        self.signal = 0.0
        self.noise = 0.0
        self.max_abs_diff = 0.0

    def add(self, logits: np.ndarray, truth: int, reference: np.ndarray | None = None) -> None:
        out = np.asarray(logits, np.float64).reshape(-1)
        k = min(TOP_K, out.size)
        top = np.argpartition(-out, k - 1)[:k]
        self.images += 1
        self.top1 += int(np.argmax(out) == truth)
        self.top5 += int(truth in top)
        if reference is None:
            return
        ref = np.asarray(reference, np.float64).reshape(-1)
        self.compared += 1
        self.agree += int(np.argmax(out) == np.argmax(ref))
        err = ref - out
        signal, noise = float(ref @ ref), float(err @ err)
        self.signal += signal
        self.noise += noise
        norms = float(np.linalg.norm(ref) * np.linalg.norm(out))
        self.cosines.append(float(ref @ out) / norms if norms > 0 else float(noise == 0))
        self.sqnrs.append(math.inf if noise == 0 else
                          10 * math.log10(signal / noise) if signal > 0 else -math.inf)
        self.max_abs_diff = max(self.max_abs_diff, float(np.abs(err).max()))

    def summary(self) -> dict:
        def finite(value: float) -> float | None:  # JSON has no infinity: identical is null
            return value if math.isfinite(value) else None

        compared = self.compared > 0
        total_sqnr = (math.inf if self.noise == 0 else
                      10 * math.log10(self.signal / self.noise) if self.signal > 0 else -math.inf)
        return {
            "images": self.images,
            "top1": self.top1 / self.images if self.images else None,
            "top5": self.top5 / self.images if self.images else None,
            "top1_agreement": self.agree / self.compared if compared else None,
            "cosine_mean": float(np.mean(self.cosines)) if compared else None,
            "cosine_min": float(np.min(self.cosines)) if compared else None,
            # over all images (total signal over total error), and the worst image's
            "sqnr_db": finite(total_sqnr) if compared else None,
            "sqnr_db_min": finite(min(self.sqnrs)) if compared else None,
            "max_abs_diff": self.max_abs_diff if compared else None,
        }
