"""ExecuTorch's ``executor_runner`` output (and the Android JNI's per-run lines).

Checked against pytorch/executorch at cff6f4dd
(``examples/portable/executor_runner/executor_runner.cpp``), plain stderr or logcat, any line
prefix (``I 00:00:00.012345 executorch:executor_runner.cpp:781] ``):
  - total, closes one run: ``Model executed successfully <N> time(s) in <T> ms.``
    (also ``... <N> times in <T> ms.``); mean = T / N
  - per-iteration (newer runners): ``Iteration <i> of <N>: <t> ms``, ``Iteration <i>: <t> ms``,
    and the Android JNI's ``Execution time: <t> ms.``
  - ``Model file <path> is loaded.`` gives the artifact; ``Resetting threadpool with num
    threads = <k>`` gives threads. Several runs in one log give one row each.
"""

from __future__ import annotations

import re
from typing import Any

from .rows import NUM, DeviceLogError, Hints, Row, apply_hints, make_row

NAME = "executor_runner"

_EXECUTED = re.compile(rf"Model executed successfully (\d+) time(?:\(s\)|s)? in {NUM} ?ms")
_ITERATION = re.compile(
    rf"(?:Iteration \d+(?: of \d+)?|Execution time)\s*:\s*{NUM} ?ms\b", re.IGNORECASE
)
_LOADED = re.compile(r"Model file (\S+) is loaded")
_THREADS = re.compile(r"Resetting threadpool with num threads = (\d+)")


def matches(text: str, data: Any) -> bool:
    return data is None and bool(_EXECUTED.search(text) or _ITERATION.search(text))


def parse(text: str, data: Any, hints: Hints) -> list[Row]:
    rows: list[Row] = []
    samples: list[float] = []
    artifact = hints["artifact"]
    threads = None
    for line in text.splitlines():
        if m := _LOADED.search(line):
            artifact = m[1]
        elif m := _THREADS.search(line):
            threads = int(m[1])
        elif m := _ITERATION.search(line):
            samples.append(float(m[1]))
        elif m := _EXECUTED.search(line):
            rows.append(_runner_row(samples, int(m[1]), float(m[2]), artifact, threads, hints))
            samples = []
    if samples:  # per-iteration lines but the closing total never came
        row = _runner_row(samples, None, None, artifact, threads, hints)
        row["note"] = (
            "no 'Model executed successfully' total after these per-run lines "
            "(an app's log, or a run cut short)"
        )
        rows.append(row)
    return rows


def _runner_row(
    samples: list[float],
    n: int | None,
    total_ms: float | None,
    artifact: str | None,
    threads: int | None,
    hints: Hints,
) -> Row:
    if n == 0:
        raise DeviceLogError("executor_runner ran the model 0 times; pass --num_executions N")
    row = make_row(
        source="executor_runner", samples_ms=samples, artifact=artifact, threads=threads, warmup=0
    )
    if not samples:
        row["iters"] = n
        row["mean_ms"] = total_ms / n
        row["note"] = (
            f"only the total was reported ({total_ms} ms for {n} runs); mean_ms is total / runs"
        )
    elif n is not None and n != len(samples):
        row["note"] = f"the total line counts {n} runs but {len(samples)} were logged"
    if row["runtime"] is None and not hints["runtime"]:
        row["runtime"] = "executorch"
        row["note"] = "; ".join(filter(None, [row.get("note"), "runtime unknown: pass runtime="]))
    return apply_hints(row, hints)
