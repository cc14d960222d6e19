"""Latency statistics from raw timing samples, as defined in docs/formats.md (results.json).

Every runtime's samples go through this one function, so a median from ONNX Runtime and one
from ExecuTorch mean the same thing. Pure Python: no numpy needed to read or report results.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence

STAT_FIELDS = ("min_ms", "median_ms", "p90_ms", "mean_ms", "trimmed_mean_ms", "std_ms")


def _checked_samples(samples_ms: Sequence[float]) -> list[float]:
    if isinstance(samples_ms, (str, bytes)):
        raise ValueError("samples_ms must be a sequence of numbers, not a string")
    values = []
    for i, sample in enumerate(samples_ms):
        if isinstance(sample, bool) or not isinstance(sample, (int, float)):
            raise ValueError(f"sample {i} is {sample!r}; samples must be numbers in milliseconds")
        if not math.isfinite(sample):
            raise ValueError(f"sample {i} is {sample!r}; samples must be finite")
        values.append(float(sample))
    if not values:
        raise ValueError("no samples: at least one timed run is needed")
    return values


def percentile(sorted_ms: Sequence[float], q: float) -> float:
    """Linear-interpolated percentile of ascending samples (numpy.percentile's default method)."""
    if not 0 <= q <= 100:
        raise ValueError(f"percentile q={q!r} is outside 0..100")
    if not sorted_ms:
        raise ValueError("no samples: at least one timed run is needed")
    position = (len(sorted_ms) - 1) * q / 100
    lower = math.floor(position)
    upper = min(lower + 1, len(sorted_ms) - 1)
    fraction = position - lower
    return sorted_ms[lower] + (sorted_ms[upper] - sorted_ms[lower]) * fraction


def _mean(values: Sequence[float]) -> float:
    try:
        return math.fsum(values) / len(values)
    except OverflowError:  # a sum past 1.8e308 ms: divide first
        return math.fsum(v / len(values) for v in values)


def summarize(samples_ms: Sequence[float]) -> dict[str, float]:
    """Return min, median, p90, mean, trimmed mean (middle 80%) and sample std, all in ms.

    `samples_ms` are the timed runs in any order; the input is not modified.
    """
    s = sorted(_checked_samples(samples_ms))
    n = len(s)
    mean = _mean(s)
    # floor(0.1 * n) computed exactly; 0.1 * n in floating point can land just below an integer.
    k = n // 10
    trimmed = s[k : n - k]
    # deviations scaled by the largest one: samples of 1e300 ms must not overflow when squared
    spread = max(abs(x - mean) for x in s)
    std = 0.0
    if n > 1 and spread > 0:
        std = spread * math.sqrt(math.fsum(((x - mean) / spread) ** 2 for x in s) / (n - 1))
    return {
        "min_ms": s[0],
        "median_ms": statistics.median(s),
        "p90_ms": percentile(s, 90),
        "mean_ms": mean,
        "trimmed_mean_ms": _mean(trimmed),
        "std_ms": std,
    }


def ratio(numerator_ms: float, denominator_ms: float) -> float:
    """`numerator_ms / denominator_ms`; e.g. eager median over runtime median is the speed-up."""
    if not (math.isfinite(numerator_ms) and math.isfinite(denominator_ms)):
        raise ValueError(f"ratio of non-finite times {numerator_ms!r} / {denominator_ms!r}")
    if denominator_ms <= 0:
        raise ValueError(f"ratio denominator must be a positive time, got {denominator_ms!r}")
    return numerator_ms / denominator_ms
