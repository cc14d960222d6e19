"""ONNX Runtime's ``onnxruntime_perf_test`` output.

Checked against microsoft/onnxruntime ``onnxruntime/test/perftest/performance_runner.cc``:
``Average inference time cost: <x> ms`` (newer builds: ``Average inference time cost total: <x>
ms``; oldest: ``Average time cost:<x> ms``), ``Total inference requests: <n>`` (oldest: ``Total
iterations:<n>``; ``Runs:<n>``), ``Session creation time cost: <x> s``, ``Setting
intra_op_num_threads to <k>``, and ``Min|Max|P50|P90|P95|P99|P999 Latency: <x> s`` (``ms`` and
``us`` units accepted too).
"""

from __future__ import annotations

import re
from typing import Any

from .rows import NUM, Hints, Row, apply_hints, make_row

NAME = "onnxruntime_perf_test"

_AVERAGE = re.compile(
    rf"Average (?:inference )?time cost(?: total)?\s*:\s*{NUM}\s*ms", re.IGNORECASE
)
_COUNT = re.compile(r"(?:Total inference requests|Total iterations|Runs)\s*:\s*(\d+)")
_SESSION = re.compile(rf"Session creation time cost\s*:\s*{NUM}\s*(s|ms)\b")
_THREADS = re.compile(r"Setting intra_op_num_threads to (\d+)")
_LATENCY = re.compile(rf"\b(Min|Max|P\d+) Latency\s*:\s*{NUM}\s*(s|ms|us)\b")
_TO_MS = {"s": 1000.0, "ms": 1.0, "us": 0.001}


def matches(text: str, data: Any) -> bool:
    return data is None and bool(_AVERAGE.search(text))


def parse(text: str, data: Any, hints: Hints) -> list[Row]:
    mean = float(_AVERAGE.search(text)[1])
    row = make_row(
        source="onnxruntime_perf_test",
        samples_ms=[],
        artifact=hints["artifact"],
        runtime="onnxruntime",
        mean_ms=mean,
    )
    if m := _COUNT.search(text):
        row["iters"] = int(m[1])
    if m := _SESSION.search(text):
        row["load_ms"] = float(m[1]) * _TO_MS[m[2]]
    if m := _THREADS.search(text):
        row["threads"] = int(m[1])
    row["warmup"] = 1  # perf_test times one untimed run first
    reported = {m[1].lower(): float(m[2]) * _TO_MS[m[3]] for m in _LATENCY.finditer(text)}
    if "min" in reported:
        row["min_ms"] = reported.pop("min")  # the smallest sample: same as our min_ms
    row["reported_ms"] = reported
    row["note"] = (
        "onnxruntime_perf_test gives no per-run samples; its percentiles are "
        "sorted[int(q*n)], not interpolated, so they are kept in reported_ms and "
        "median_ms/p90_ms stay null"
    )
    return [apply_hints(row, hints)]
