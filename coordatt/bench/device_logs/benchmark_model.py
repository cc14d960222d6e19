"""LiteRT's (TensorFlow Lite's) ``benchmark_model`` output, stdout or logcat.

Checked against google-ai-edge/LiteRT at f6745779 (``tflite/tools/benchmark/benchmark_main.cc``,
``benchmark_model.cc``, ``benchmark_tflite_model.cc``, ``tflite/tools/logging.h``,
``tool_params.h``, ``tflite/tools/delegates/*_provider.cc``) and tensorflow/tensorflow
``third_party/xla/xla/tsl/util/stats_calculator.h`` (``Stat::OutputToStream``). Every message goes
to stdout as ``INFO: <message>`` (``ERROR:``/``FATAL:`` to stderr; older builds print no level)
and, on Android, to logcat with tag ``tflite`` (``... I tflite  : <message>``); logcat
lines of other tags are skipped. One run prints, in order:
  - ``STARTING!``; the flags set on the command line, ``<description>: [<value>]``:
    ``Num threads: [1]``, ``Graph: [<path>]`` (always), ``#threads used for CPU inference: [1]``,
    ``Use xnnpack: [1]`` (also ``Use gpu``, ``Use NNAPI``, ``Use Hexagon``...)
  - ``Loaded model <path>``, ``The input model file size (MB): <x>``,
    ``Initialized session in <x>ms.``
  - twice, warm-up then timed: ``Running benchmark for at least <n> iterations and at least <s>
    seconds but terminate if exceeding <s> seconds.`` and one statistics line in microseconds:
    ``count=<n> first=<us> curr=<us> min=<us> max=<us> avg=<us> std=<us>``, where std is the
    population std and newer builds append `` p5=<us> median=<us> p95=<us>`` (``sorted[n*q/100]``,
    not interpolated); ``count=<n> curr=<us>`` (plus ``(all same)`` when n > 1) when every run took
    the same time; ``count=0`` when none ran. avg is printed with 6 significant digits
    (``2.95034e+06``).
  - the line that closes a run: ``Inference timings in us: Init: <us>, First inference: <us>,
    Warmup (avg): <us>, Inference (avg): <us>`` (older builds: ``Average inference timings in us:
    Warmup: <us>, Init: <us>, Inference: <us>``, and before that ``..., no stats: <us>``)
  - after it: ``Memory footprint delta from the start of the tool (MB): init=<x> overall=<x>``
    (older: ``Peak memory footprint (MB): init=<x> overall=<x>``) and, with
    --report_peak_memory_footprint, ``Overall peak memory footprint (MB) via periodic monitoring:
    <x>`` (peak RSS of the tool's process, as our ``peak_rss_mb``).
  - with --enable_op_profiling, operator tables whose ``Timings (microseconds): count=...`` lines
    are not the run's statistics.
A run that fails logs ``ERROR: ...`` and ``Benchmarking failed.``. Several runs in one log (the
output of several invocations, or of benchmark_model_performance_options) give one row each.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .rows import DeviceLogError, Hints, Row, add_note, apply_hints, make_row, parse_artifact_name

NAME = "benchmark_model"

_FLOAT = r"[0-9]+(?:\.[0-9]*)?(?:[eE][-+]?[0-9]+)?"
_VALUE = rf"(-?nan|-?inf|{_FLOAT})"  # avg of no runs is nan in some builds
# logcat threadtime (11-27 10:15:02.123  8123  8123 I tflite  : ), brief/time (I/tflite ( 8123): )
_LOGCAT = re.compile(
    r"^(?:(?:\d{4}-)?\d\d-\d\d\s+\d\d:\d\d:\d\d\.\d+\s+(?:[\w-]+\s+){0,3})?"
    r"(?P<level>[VDIWEF])[ /](?P<tag>[^\s:(]+)\s*(?:\(\s*\d+\)\s*)?: ?(?P<msg>.*)$"
)
_LEVEL = re.compile(r"^(INFO|WARN|WARNING|ERROR|FATAL): ?")

# lines only benchmark_model writes, so that a run that failed early is still recognised
_MARKER = re.compile(
    r"Inference timings in us:|Running benchmark for (?:at least )?\d+ iterations"
    r"|Initialized session in |Log parameter values verbosely: \["
    r"|\bGraph: \[[^\[\]\n]{0,500}\.tflite\]|#threads used for CPU inference: \["
)
_NEW_RUN = re.compile(r"^(?:STARTING!|Log parameter values verbosely: )")
_GRAPH = re.compile(r"\bGraph: \[([^\[\]\n]{0,1000})\]")  # bounded: "Graph: [" * n stays O(n)
_LOADED = re.compile(r"\bLoaded model (\S.*)$")
_THREADS = re.compile(r"(?:\bNum threads|#threads used for CPU inference): \[(-?\d+)\]")
_DELEGATE_FLAG = re.compile(r"\bUse (xnnpack|ynnpack|gpu|NNAPI|Hexagon|CoreML): \[1\]")
_DELEGATE_APPLIED = re.compile(r"\b(?:Explicitly applied|Though) \S+ delegate.*")
_SESSION = re.compile(rf"Initialized session in ({_FLOAT}) ?ms")
_RUNNING = re.compile(r"Running benchmark for (?:at least )?\d+ iterations")
_STAT = re.compile(r"(?:^|[\s:])count=(\d+)\b(.*)$")
_OP_PROFILE_STAT = re.compile(r"\((?:microseconds|bytes)\):\s*$")  # Timings (microseconds): count=
_STAT_FIELD = re.compile(rf"\b(first|curr|min|max|avg|std|p5|median|p95)={_VALUE}")
_TIMINGS = re.compile(r"Inference timings in us:(.*)$", re.IGNORECASE)
_TIMING = re.compile(rf"([A-Za-z][A-Za-z ()]{{0,40}}?):\s*{_VALUE}")  # bounded: no O(n^2)
_MEMORY = re.compile(
    r"(?:Memory footprint delta from the start of the tool|Peak memory footprint) \(MB\):"
    rf"\s*init=(-?{_FLOAT}) overall=(-?{_FLOAT})"
)
_PEAK = re.compile(rf"Overall peak memory footprint \(MB\) via periodic monitoring:\s*({_FLOAT})")
_FAILED = "Benchmarking failed."

_STATS_NOTE = (
    "benchmark_model gives no per-run samples; mean_ms and min_ms are its avg and min, its std "
    "is the population std (ours is the sample std) and its p5/median/p95 are sorted[n*q/100], "
    "not interpolated, so they are kept in reported_ms and median_ms/p90_ms/std_ms stay null"
)


@dataclass
class _Run:
    graph: str | None = None
    threads: int | None = None
    delegates: list[str] = field(default_factory=list)
    session_ms: float | None = None
    running: int = 0  # "Running benchmark" lines seen: 1 = warm-up, 2 = timed
    stats: dict[int, dict[str, float]] = field(default_factory=dict)  # phase -> fields, in us
    timings: dict[str, float] | None = None  # the closing line, in us
    errors: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    peak_mb: float | None = None

    @property
    def started(self) -> bool:
        return bool(self.graph or self.session_ms is not None or self.running or self.stats)

    @property
    def closed(self) -> bool:
        return self.timings is not None


def matches(text: str, data: Any) -> bool:
    return data is None and bool(_MARKER.search(text))


def parse(text: str, data: Any, hints: Hints) -> list[Row]:
    runs = _split_runs(text)
    if not any(run.closed for run in runs):
        last = runs[-1] if runs else _Run()
        graph = f" for {Path(last.graph).name}" if last.graph else ""
        raise DeviceLogError(
            f"benchmark_model output{graph} has no complete 'Inference timings in us: ... "
            f"Inference (avg): ...' line: {_why_stopped(last)}; pass the tool's full output"
        )
    # a run that failed before naming its graph (a bad flag) cannot be told apart: left out
    return [_row(run, hints) for run in runs if run.closed or run.started]


def _messages(text: str):
    """(level letter or "", message) of each line the tool wrote, log prefixes removed."""
    for line in text.splitlines():
        level = ""
        if m := _LOGCAT.match(line):
            if m["tag"] != "tflite":
                continue
            level, line = m["level"], m["msg"]
        line = line.strip()
        if m := _LEVEL.match(line):
            level, line = m[1][0], line[m.end() :]
        yield level, line


def _split_runs(text: str) -> list[_Run]:
    runs = [_Run()]
    for level, msg in _messages(text):
        run = runs[-1]
        again = bool(_NEW_RUN.match(msg)) or (run.graph is not None and _GRAPH.search(msg))
        # a new run: its first line, or any run line after a closed run (memory lines and
        # "Benchmarking failed." come after the closing line and belong to it)
        if (again and (run.started or run.closed)) or (run.closed and _is_run_line(msg)):
            run = _Run()
            runs.append(run)
        _read_line(run, level, msg)
    return [run for run in runs if run.started or run.closed or run.errors]


def _is_run_line(msg: str) -> bool:
    lines = (_GRAPH, _LOADED, _THREADS, _SESSION, _RUNNING, _TIMINGS)
    return any(p.search(msg) for p in lines) or _stat_fields(msg) is not None


def _read_line(run: _Run, level: str, msg: str) -> None:
    if m := _GRAPH.search(msg):
        run.graph = m[1].strip() or None
    elif m := _LOADED.search(msg):
        run.graph = run.graph or m[1].strip()
    elif m := _THREADS.search(msg):
        run.threads = int(m[1])
    elif m := _DELEGATE_FLAG.search(msg):
        run.delegates.append(m[1].lower())
    elif m := _DELEGATE_APPLIED.search(msg):
        run.notes.append(_clip(m[0]))
    elif m := _SESSION.search(msg):
        run.session_ms = float(m[1])
    elif _RUNNING.search(msg):
        run.running += 1
    elif m := _TIMINGS.search(msg):
        timings = {key.strip().lower(): float(value) for key, value in _TIMING.findall(m[1])}
        if _inference_us(timings) is not None:  # a line cut before its mean does not close
            run.timings = timings
    elif m := _MEMORY.search(msg):
        run.notes.append(f"memory footprint grew {m[1]} MB by the end of init, {m[2]} MB overall")
    elif m := _PEAK.search(msg):
        run.peak_mb = float(m[1])
    elif (stat := _stat_fields(msg)) is not None:
        run.stats.setdefault(run.running or len(run.stats) + 1, stat)
    elif level in ("E", "F") or msg == _FAILED or (not level and msg.startswith("Failed to")):
        run.errors.append(_clip(msg))  # older builds print errors without a level


def _stat_fields(msg: str) -> dict[str, float] | None:
    """The fields of a run's ``count=...`` line, in us; None for any other line."""
    m = _STAT.search(msg)
    if m is None or _OP_PROFILE_STAT.search(msg[: m.start() + 1]):
        return None
    fields = {key: float(value) for key, value in _STAT_FIELD.findall(m[2])}
    fields["count"] = float(m[1])
    if "avg" not in fields and "curr" in fields:  # "count=5 curr=9000(all same)", "count=1 ..."
        fields.update(dict.fromkeys(("min", "max", "avg"), fields["curr"]), std=0.0)
    return fields


def _row(run: _Run, hints: Hints) -> Row:
    artifact = run.graph or hints["artifact"]
    precision = parse_artifact_name(artifact)["precision"] if artifact else None
    row = make_row(
        source=NAME,
        samples_ms=[],
        artifact=artifact,
        runtime="litert-int8" if precision == "int8" else "litert",
        threads=run.threads if run.threads and run.threads > 0 else None,
        peak_rss_mb=run.peak_mb,
    )
    warm, timed = run.stats.get(1), run.stats.get(2)
    timings = run.timings or {}
    init_us = timings.get("init")
    row["load_ms"] = init_us / 1000 if _finite(init_us) else run.session_ms
    row["warmup"] = int(warm["count"]) if warm else None
    row["iters"] = int(timed["count"]) if timed else None
    mean_us = _inference_us(timings)
    if not run.closed:
        row["error"] = (
            f"benchmark_model stopped before its 'Inference timings in us' line: "
            f"{_why_stopped(run)}"
        )
    elif _FAILED in run.errors:
        cause = _cause(run)
        row["error"] = f"benchmark_model reported {_FAILED!r}" + (
            f" after {cause!r}" if cause != _FAILED else " (an inference failed)"
        )
    elif (timed and timed["count"] == 0) or (not timed and mean_us == 0) or not _finite(mean_us):
        row["error"] = (
            "benchmark_model made no timed runs (count=0: --dry_run, or --num_runs=0 "
            "with --min_secs=0)"
        )
    if row["error"]:
        return apply_hints(row, hints)
    reported = {"mean": mean_us}
    if timed:
        keys = ("min", "max", "std", "p5", "median", "p95")
        reported |= {key: timed[key] for key in keys if key in timed}
    reported["first_inference"] = timings.get("first inference")
    reported["warmup_mean"] = timings.get("warmup (avg)", timings.get("warmup"))
    row["reported_ms"] = {key: us / 1000 for key, us in reported.items() if _finite(us)}
    row["mean_ms"] = row["reported_ms"]["mean"]
    row["min_ms"] = row["reported_ms"].get("min")  # the fastest run: same as our min_ms
    notes = [_STATS_NOTE]
    if run.threads is not None and run.threads <= 0:
        notes.append(f"threads {run.threads}: the runtime's default, not logged")
    if run.delegates:
        notes.append("delegate flags: " + ", ".join(f"--use_{d}=true" for d in run.delegates))
    notes += run.notes
    if run.errors:
        notes.append(f"benchmark_model logged {_cause(run)!r}")
    for note in notes:
        add_note(row, note)
    return apply_hints(row, hints)


def _inference_us(timings: dict[str, float]) -> float | None:
    for key in ("inference (avg)", "inference", "no stats"):  # newest first; oldest builds
        if key in timings:
            return timings[key]
    return None


def _cause(run: _Run) -> str:
    """The tool's last error line, preferring one that says more than "Benchmarking failed."."""
    specific = [e for e in run.errors if e != _FAILED]
    return specific[-1] if specific else run.errors[-1]


def _why_stopped(run: _Run) -> str:
    if run.errors:
        return f"the tool logged {_cause(run)!r}"
    if not run.started:
        return "no run started"
    where = {1: " after the warm-up statistics", 2: " after the timed statistics"}
    return "the log is cut short" + (where.get(max(run.stats), "") if run.stats else "")


def _finite(value: float | None) -> bool:
    return value is not None and math.isfinite(value)


def _clip(text: str, limit: int = 160) -> str:
    """One printable line of at most ``limit`` characters."""
    text = "".join(c if c.isprintable() else "?" for c in text).strip()
    return text if len(text) <= limit else text[: limit - 3] + "..."
