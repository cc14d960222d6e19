"""Result rows from the output of benchmark tools people already run on phones.

Each parser turns one tool's output into rows of ``results.json`` (docs/formats.md). Statistics
come from :func:`coordatt.bench.stats.summarize` whenever the tool gives every timed run; a
statistic the tool does not give, or gives with a different definition, is left null and what
the tool did report is kept in ``reported_ms`` with a ``note`` saying why.

Accepted formats, checked against the tools' sources (pytorch/executorch at cff6f4dd,
microsoft/onnxruntime ``onnxruntime/test/perftest/performance_runner.cc``):

``executor_runner`` (``examples/portable/executor_runner/executor_runner.cpp``), plain stderr or
logcat, any line prefix (``I 00:00:00.012345 executorch:executor_runner.cpp:781] ``):
  - total, closes one run: ``Model executed successfully <N> time(s) in <T> ms.``
    (also ``... <N> times in <T> ms.``); mean = T / N
  - per-iteration (newer runners): ``Iteration <i> of <N>: <t> ms``, ``Iteration <i>: <t> ms``,
    and the Android JNI's ``Execution time: <t> ms.``
  - ``Model file <path> is loaded.`` gives the artifact; ``Resetting threadpool with num
    threads = <k>`` gives threads. Several runs in one log give one row each.
``minibench`` (``extension/benchmark/android/benchmark/app/.../minibench/BenchmarkMetric.kt``,
``ModelRunner.kt``): a JSON list of ``{"benchmarkModel": {"name", "backend", "quantization"},
"metric", "actualValue", "targetValue", "deviceInfo": {"arch": Build.MODEL, "device":
Build.BRAND, "os": "Android <release>", "totalMem", "availMem"}}``; metrics used:
``avg_inference_latency(ms)``, ``trimmean_inference_latency(ms)``, ``model_load_time(ms)``,
``load_status``, ``ram_pss_usage(mb)``. One row per benchmarkModel.
``onnxruntime_perf_test``: ``Average inference time cost: <x> ms`` (newer builds: ``Average
inference time cost total: <x> ms``; oldest: ``Average time cost:<x> ms``), ``Total inference
requests: <n>`` (oldest: ``Total iterations:<n>``; ``Runs:<n>``), ``Session creation time cost:
<x> s``, ``Setting intra_op_num_threads to <k>``, and ``Min|Max|P50|P90|P95|P99|P999 Latency:
<x> s`` (``ms`` and ``us`` units accepted too).
``coordatt``: our own ``benchmark_results.json`` / ``results.json`` (``schema:
"coordatt.bench/1"``); statistics are recomputed from ``samples_ms``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from coordatt.bench.stats import STAT_FIELDS, summarize
from coordatt.errors import check_regular_file

__all__ = [
    "DeviceLogError",
    "FORMATS",
    "load_device_log",
    "parse_artifact_name",
    "parse_device_log",
]

FORMATS = ("coordatt", "minibench", "executor_runner", "onnxruntime_perf_test")
SCHEMA = "coordatt.bench/1"
_REQUIRED_ROW_KEYS = ("model", "runtime", "samples_ms")


class DeviceLogError(ValueError):
    """A device log or result file that none of the known formats can read."""


# mobilenetv2_ca_100_xnnpack_fp32: model, width x 100, backend, precision (docs/formats.md)
_ARTIFACT_NAME = re.compile(
    r"^(?P<model>[A-Za-z0-9_]+?)_(?P<width>\d{2,3})_(?P<backend>[A-Za-z0-9]+)"
    r"_(?P<precision>fp32|fp16|int8)$"
)


def parse_artifact_name(name: str) -> dict[str, Any]:
    """Split an artifact file name into model, width_mult, backend, precision and runtime.

    Names that do not follow the convention give ``{"model": <stem>}`` and nulls elsewhere.
    """
    stem = Path(name).name
    for suffix in (".pte", ".onnx", ".mlpackage", ".json"):
        stem = stem.removesuffix(suffix)
    match = _ARTIFACT_NAME.match(stem)
    if match is None:
        return {
            "model": stem,
            "width_mult": None,
            "backend": None,
            "precision": None,
            "runtime": None,
        }
    backend, precision = match["backend"], match["precision"]
    return {
        "model": match["model"],
        "width_mult": int(match["width"]) / 100,
        "backend": backend,
        "precision": precision,
        "runtime": runtime_for(backend, precision),
    }


def runtime_for(backend: str | None, precision: str | None) -> str | None:
    """Our runtime name for an artifact backend and precision (``onnx`` -> ``onnxruntime``)."""
    if not backend:
        return None
    backend = backend.lower()
    if backend in ("onnx", "ort", "onnxruntime"):
        return "onnxruntime"
    if backend in ("mlprogram", "coreml"):
        return "coreml"
    name = f"executorch-{backend}"
    # int8 is a separate runtime row only for XNNPACK, as in docs/formats.md
    if backend == "xnnpack" and precision and _is_int8(precision):
        name += "-int8"
    return name


def _is_int8(quantization: str) -> bool:
    return quantization.lower() in ("int8", "q8", "qs8", "8a8w", "a8w8")


def make_row(
    *,
    source: str,
    samples_ms: list[float],
    artifact: str | None = None,
    model: str | None = None,
    runtime: str | None = None,
    device: str | None = None,
    **fields: Any,
) -> dict[str, Any]:
    """A results row with every field of docs/formats.md; statistics from ``samples_ms``."""
    named = parse_artifact_name(artifact) if artifact else {}
    row: dict[str, Any] = {
        "model": model or named.get("model"),
        "width_mult": named.get("width_mult"),
        "input_size": None,
        "runtime": runtime or named.get("runtime"),
        "precision": named.get("precision"),
        "threads": None,
        "device": device or "unknown",
        "device_info": None,
        "artifact": Path(artifact).name if artifact else None,
        "load_ms": None,
        "warmup": None,
        "iters": len(samples_ms) or None,
        "samples_ms": list(samples_ms),
        **dict.fromkeys(STAT_FIELDS),
        "peak_rss_mb": None,
        "max_abs_diff": None,
        "source": source,
        "error": None,
    }
    if samples_ms:
        row.update(summarize(samples_ms))
    for key, value in fields.items():
        if value is not None or key not in row:
            row[key] = value
    return row


def load_device_log(path: str | Path, **kwargs: Any) -> list[dict[str, Any]]:
    """Read a saved tool output or result file and parse it with :func:`parse_device_log`."""
    path = Path(path)
    check_regular_file(path, "device log", DeviceLogError)
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as e:
        raise DeviceLogError(f"cannot read device log {str(path)!r}: {e.strerror}") from e
    return parse_device_log(text, **kwargs)


def parse_device_log(
    text: str,
    *,
    model: str | None = None,
    device: str | None = None,
    runtime: str | None = None,
    artifact: str | None = None,
    threads: int | None = None,
    input_size: list[int] | None = None,
    fmt: str | None = None,
) -> list[dict[str, Any]]:
    """Detect the tool that wrote ``text`` and return its results as rows.

    Keyword arguments fill what the log does not say (and ``model``/``runtime`` override what
    it does); ``fmt`` forces one of :data:`FORMATS` instead of detecting it.
    """
    if fmt is not None and fmt not in FORMATS:
        raise ValueError(f"unknown device log format {fmt!r}; choose from {', '.join(FORMATS)}")
    hints = {
        "model": model,
        "device": device,
        "runtime": runtime,
        "artifact": artifact,
        "threads": threads,
        "input_size": input_size,
    }
    stripped = text.strip()
    data: Any = None
    if stripped[:1] in ("{", "["):
        try:
            data = json.loads(stripped)
        except json.JSONDecodeError as e:
            if fmt in ("coordatt", "minibench"):
                raise DeviceLogError(f"{fmt} result is not valid JSON: {e}") from e
    candidates = [fmt] if fmt else list(FORMATS)
    for name in candidates:
        if name == "coordatt" and isinstance(data, dict) and "schema" in data:
            return _parse_coordatt(data, hints)
        if name == "minibench" and isinstance(data, list) and data:
            return _parse_minibench(data, hints)
        if name == "executor_runner" and data is None and _EXECUTED.search(text):
            return _parse_executor_runner(text, hints)
        if name == "executor_runner" and data is None and _ITERATION.search(text):
            return _parse_executor_runner(text, hints)
        if name == "onnxruntime_perf_test" and data is None and _ORT_AVERAGE.search(text):
            return _parse_ort_perf_test(text, hints)
    head = stripped[:60].replace("\n", " ")
    raise DeviceLogError(
        f"no known benchmark output in the text (starts {head!r}); tried "
        f"{', '.join(candidates)}; pass a tool's full output or a benchmark_results.json"
    )


def _apply(row: dict[str, Any], hints: dict[str, Any]) -> dict[str, Any]:
    """Fill a parsed row from the caller's hints: model/runtime override, others fill gaps."""
    for key in ("model", "runtime"):
        if hints[key]:
            row[key] = hints[key]
    for key in ("device", "threads", "input_size"):
        if hints[key] is not None and row.get(key) in (None, "unknown"):
            row[key] = hints[key]
    return row


# --- coordatt's own JSON -------------------------------------------------------------------


def _parse_coordatt(data: dict[str, Any], hints: dict[str, Any]) -> list[dict[str, Any]]:
    if data.get("schema") != SCHEMA:
        raise DeviceLogError(
            f"result schema {data.get('schema')!r} is not {SCHEMA!r}; update coordatt or the app"
        )
    results = data.get("results")
    if not isinstance(results, list):
        raise DeviceLogError(f"{SCHEMA} file has no 'results' list; the writer stopped early")
    rows = []
    for i, raw in enumerate(results):
        if not isinstance(raw, dict):
            raise DeviceLogError(f"results[{i}] is {type(raw).__name__}, not an object")
        missing = [key for key in _REQUIRED_ROW_KEYS if key not in raw]
        if missing:
            raise DeviceLogError(f"results[{i}] lacks {', '.join(missing)}")
        samples = raw["samples_ms"]
        if not isinstance(samples, list) or not all(
            isinstance(x, (int, float)) and not isinstance(x, bool) for x in samples
        ):
            raise DeviceLogError(f"results[{i}].samples_ms must be a list of numbers")
        row = make_row(
            source=raw.get("source") or "coordatt-bench",
            samples_ms=samples,
            artifact=raw.get("artifact"),
            model=raw["model"],
            runtime=raw["runtime"],
        )
        for key, value in raw.items():
            # keep what make_row filled in (e.g. the model from the artifact's name) over a null
            if key not in STAT_FIELDS and key != "samples_ms" and (value is not None
                                                                   or row.get(key) is None):
                row[key] = value
        if samples:
            _check_statistics(row, raw)
        rows.append(_apply(row, hints))
    return rows


def _check_statistics(row: dict[str, Any], raw: dict[str, Any]) -> None:
    """Keep our statistics, recomputed; say so when the writer's disagreed."""
    differ = [
        key
        for key in STAT_FIELDS
        if isinstance(raw.get(key), (int, float))
        and abs(raw[key] - row[key]) > 1e-6 * max(1.0, abs(row[key]))
    ]
    if differ:
        note = f"recomputed {', '.join(differ)} from samples_ms (the writer's values differed)"
        row["note"] = f"{row['note']}; {note}" if row.get("note") else note


# --- ExecuTorch minibench ------------------------------------------------------------------


def _parse_minibench(records: list[Any], hints: dict[str, Any]) -> list[dict[str, Any]]:
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
            row["precision"] = "int8" if _is_int8(quantization) else quantization
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
        rows.append(_apply(row, hints))
    return rows


# --- ExecuTorch executor_runner ------------------------------------------------------------

_NUM = r"([0-9]+(?:\.[0-9]*)?(?:[eE][-+]?[0-9]+)?)"
_EXECUTED = re.compile(rf"Model executed successfully (\d+) time(?:\(s\)|s)? in {_NUM} ?ms")
_ITERATION = re.compile(
    rf"(?:Iteration \d+(?: of \d+)?|Execution time)\s*:\s*{_NUM} ?ms\b", re.IGNORECASE
)
_LOADED = re.compile(r"Model file (\S+) is loaded")
_THREADS = re.compile(r"Resetting threadpool with num threads = (\d+)")


def _parse_executor_runner(text: str, hints: dict[str, Any]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
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
    hints: dict[str, Any],
) -> dict[str, Any]:
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
    return _apply(row, hints)


# --- ONNX Runtime onnxruntime_perf_test ----------------------------------------------------

_ORT_AVERAGE = re.compile(
    rf"Average (?:inference )?time cost(?: total)?\s*:\s*{_NUM}\s*ms", re.IGNORECASE
)
_ORT_COUNT = re.compile(r"(?:Total inference requests|Total iterations|Runs)\s*:\s*(\d+)")
_ORT_SESSION = re.compile(rf"Session creation time cost\s*:\s*{_NUM}\s*(s|ms)\b")
_ORT_THREADS = re.compile(r"Setting intra_op_num_threads to (\d+)")
_ORT_LATENCY = re.compile(rf"\b(Min|Max|P\d+) Latency\s*:\s*{_NUM}\s*(s|ms|us)\b")
_TO_MS = {"s": 1000.0, "ms": 1.0, "us": 0.001}


def _parse_ort_perf_test(text: str, hints: dict[str, Any]) -> list[dict[str, Any]]:
    mean = float(_ORT_AVERAGE.search(text)[1])
    row = make_row(
        source="onnxruntime_perf_test",
        samples_ms=[],
        artifact=hints["artifact"],
        runtime="onnxruntime",
        mean_ms=mean,
    )
    if m := _ORT_COUNT.search(text):
        row["iters"] = int(m[1])
    if m := _ORT_SESSION.search(text):
        row["load_ms"] = float(m[1]) * _TO_MS[m[2]]
    if m := _ORT_THREADS.search(text):
        row["threads"] = int(m[1])
    row["warmup"] = 1  # perf_test times one untimed run first
    reported = {m[1].lower(): float(m[2]) * _TO_MS[m[3]] for m in _ORT_LATENCY.finditer(text)}
    if "min" in reported:
        row["min_ms"] = reported.pop("min")  # the smallest sample: same as our min_ms
    row["reported_ms"] = reported
    row["note"] = (
        "onnxruntime_perf_test gives no per-run samples; its percentiles are "
        "sorted[int(q*n)], not interpolated, so they are kept in reported_ms and "
        "median_ms/p90_ms stay null"
    )
    return [_apply(row, hints)]
