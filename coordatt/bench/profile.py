"""Per-operator time for a runtime (``coordatt-bench --profile``): where the milliseconds go.

ExecuTorch: ETDump + the devtools Inspector (one row per XNNPACK operator inside the delegate).
ONNX Runtime: its built-in profiler (per node, grouped by operator type). Eager: torch.profiler.
Rows are averaged per inference and grouped by operator kind.
"""

from __future__ import annotations

import json
import re
import tempfile
from collections import defaultdict
from pathlib import Path

import numpy as np

__all__ = ["profile_runner", "render_profile"]


def _rows(totals_ms: dict[str, float], calls: dict[str, int], n: int) -> list[dict]:
    grand = sum(totals_ms.values()) or 1.0
    rows = [{"op": op, "calls": calls[op] // n, "ms": t / n, "share": t / grand}
            for op, t in totals_ms.items()]
    return sorted(rows, key=lambda r: -r["ms"])


def _executorch(runner, x: np.ndarray, n: int) -> list[dict]:
    import torch
    from executorch.devtools import Inspector
    from executorch.extension.pybindings import portable_lib

    module = portable_lib._load_for_executorch(str(runner.path), enable_etdump=True,
                                               debug_buffer_size=0)
    inputs = [torch.from_numpy(x)]
    module.forward(inputs)  # warm-up, recorded too: dropped below by averaging over n + 1
    for _ in range(n):
        module.forward(inputs)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "run.etdp"
        module.write_etdump_result_to_file(str(path))
        frame = Inspector(etdump_path=str(path)).to_dataframe()
    totals: dict[str, float] = defaultdict(float)
    calls: dict[str, int] = defaultdict(int)
    runs = n + 1
    for _, row in frame.iterrows():
        name = str(row["event_name"])
        if name in ("Method::execute", "Program::load_method", "Method::init") or \
                name.startswith("DELEGATE_CALL"):
            continue  # containers of the operator rows, not operators
        kind = re.sub(r"\s*#\d+$", "", name)  # "Convolution (NHWC, F32) IGEMM #12" -> kind
        samples = row["raw"] if isinstance(row.get("raw"), list) else [row["avg"]] * runs
        totals[kind] += float(np.sum(samples))
        calls[kind] += len(samples)
    return _rows(totals, calls, runs)


def _onnxruntime(runner, x: np.ndarray, n: int) -> list[dict]:
    from ..export.onnx import ort_session

    with tempfile.TemporaryDirectory() as tmp:
        session = ort_session(runner.path, runner.threads, str(Path(tmp) / "ort"))
        session.run(["logits"], {"image": x})
        for _ in range(n):
            session.run(["logits"], {"image": x})
        events = json.loads(Path(session.end_profiling()).read_text())
    totals: dict[str, float] = defaultdict(float)
    calls: dict[str, int] = defaultdict(int)
    for e in events:
        if e.get("cat") == "Node" and e.get("name", "").endswith("_kernel_time"):
            op = e.get("args", {}).get("op_name", "?")
            totals[op] += e["dur"] / 1000.0
            calls[op] += 1
    return _rows(totals, calls, n + 1)


def _eager(runner, x: np.ndarray, n: int) -> list[dict]:
    import torch
    from torch.profiler import ProfilerActivity, profile

    inp = torch.from_numpy(x)
    with torch.inference_mode():
        runner.model(inp)
        with profile(activities=[ProfilerActivity.CPU]) as prof:
            for _ in range(n):
                runner.model(inp)
    totals = {e.key: e.self_cpu_time_total / 1000.0 for e in prof.key_averages()
              if e.self_cpu_time_total > 0}
    calls = {e.key: e.count for e in prof.key_averages()}
    return _rows(totals, calls, n)


def profile_runner(runner, x: np.ndarray, n: int = 20) -> list[dict]:
    """Per-operator-kind time per inference for a loaded runner."""
    if runner.runtime.startswith("executorch-"):
        return _executorch(runner, x, n)
    if runner.runtime == "onnxruntime":
        return _onnxruntime(runner, x, n)
    if runner.runtime == "eager":
        return _eager(runner, x, n)
    raise ValueError(f"no profiler for {runner.runtime}")


def render_profile(title: str, rows: list[dict], top: int = 12) -> str:
    lines = [title, f"  {'operator':<48} {'calls':>6} {'ms/run':>8} {'share':>6}"]
    for r in rows[:top]:
        lines.append(f"  {r['op'][:48]:<48} {r['calls']:>6} {r['ms']:>8.3f} {r['share']:>6.1%}")
    rest = rows[top:]
    if rest:
        lines.append(f"  {'(' + str(len(rest)) + ' more)':<48} {'':>6} "
                     f"{sum(r['ms'] for r in rest):>8.3f} {sum(r['share'] for r in rest):>6.1%}")
    return "\n".join(lines)
