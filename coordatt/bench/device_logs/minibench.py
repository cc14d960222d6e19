"""ExecuTorch's Android benchmark app (minibench) ``benchmark_results.json``.

Checked against pytorch/executorch at cff6f4dd
(``extension/benchmark/android/benchmark/app/.../minibench/BenchmarkMetric.kt``,
``ModelRunner.kt``): a JSON list of ``{"benchmarkModel": {"name", "backend", "quantization"},
"metric", "actualValue", "targetValue", "deviceInfo": {"arch": Build.MODEL, "device":
Build.BRAND, "os": "Android <release>", "totalMem", "availMem"}}``; metrics used:
``avg_inference_latency(ms)``, ``trimmean_inference_latency(ms)``, ``model_load_time(ms)``,
``load_status``, ``ram_pss_usage(mb)``. One row per benchmarkModel.
"""

from __future__ import annotations

from typing import Any

from .rows import DeviceLogError, Hints, Row, apply_hints, is_int8, make_row, runtime_for

NAME = "minibench"


def matches(text: str, data: Any) -> bool:
    return isinstance(data, list) and bool(data)


def parse(text: str, records: list[Any], hints: Hints) -> list[Row]:
    groups: dict[tuple[str, str, str], dict[str, Any]] = {}
    device_info: dict[str, Any] = {}
    for i, rec in enumerate(records):
        if not isinstance(rec, dict) or not isinstance(rec.get("benchmarkModel"), dict):
            raise DeviceLogError(f"minibench record {i} has no 'benchmarkModel' object")
        if "metric" not in rec or not isinstance(rec.get("actualValue"), (int, float)):
            raise DeviceLogError(f"minibench record {i} lacks 'metric' or numeric 'actualValue'")
        bm = rec["benchmarkModel"]
        key = (str(bm.get("name", "")), str(bm.get("backend", "")), str(bm.get("quantization", "")))
        groups.setdefault(key, {})[rec["metric"]] = float(rec["actualValue"])
        if isinstance(rec.get("deviceInfo"), dict):
            device_info = rec["deviceInfo"]
    rows = []
    for (name, backend, quantization), metrics in groups.items():
        tail = f"_{backend}_{quantization}"
        stem = name if not backend or name.endswith(tail) else f"{name}{tail}"
        row = make_row(
            source="minibench",
            samples_ms=[],
            artifact=f"{stem}.pte",
            runtime=runtime_for(backend, quantization),
        )
        if row["precision"] is None and quantization:
            row["precision"] = "int8" if is_int8(quantization) else quantization
        row["device"] = device_info.get("arch") or "unknown"  # minibench puts Build.MODEL in arch
        if device_info:
            row["device_info"] = {
                "soc": None,
                "abi": None,
                "android": device_info.get("os"),
                "brand": device_info.get("device"),
                "runtimes": {},
            }
        row["load_ms"] = metrics.get("model_load_time(ms)")
        row["mean_ms"] = metrics.get("avg_inference_latency(ms)")
        reported = {"trimmean": metrics.get("trimmean_inference_latency(ms)")}
        row["reported_ms"] = {k: v for k, v in reported.items() if v is not None}
        notes = [
            "minibench reports averages only (no per-run samples); trimmean kept in "
            "reported_ms: it trims [n/10, 9n/10), which equals trimmed_mean_ms only "
            "when n is a multiple of 10"
        ]
        if "ram_pss_usage(mb)" in metrics:
            notes.append(f"PSS grew {metrics['ram_pss_usage(mb)']:.1f} MB during the run")
        status = metrics.get("load_status", 0.0)
        if status != 0:
            row["error"] = f"minibench could not load the model (load_status {int(status)})"
        elif row["mean_ms"] is None:
            row["error"] = "minibench wrote no avg_inference_latency(ms) for this model"
        row["note"] = "; ".join(notes)
        rows.append(apply_hints(row, hints))
    return rows
