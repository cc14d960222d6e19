"""Benchmark reporting: results.json (schema coordatt.bench/1, docs/formats.md), CSV, a terminal
table (table.py) and a latency chart (chart.py), plus a description of the machine the numbers
came from.

Host rows (device "host") and phone rows (device = the phone's model) share one row format but
are never compared with each other: the table and the chart give each device its own section.
Rows parsed from other tools' logs (coordatt.bench.device_logs) may lack samples, some
statistics, threads or input size; those are null and shown as "-".
"""

from __future__ import annotations

import csv
import importlib.metadata
import io
import json
import math
import os
import platform
import subprocess
import sys
import tempfile
import warnings
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from coordatt.bench.stats import STAT_FIELDS, summarize
from coordatt.bench.table import (  # noqa: F401 (the table's names, still reachable here)
    RUNTIME_ORDER,
    _model_key,
    _row_order,
    _size_text,
    render_table,
)
from coordatt.errors import check_regular_file

SCHEMA = "coordatt.bench/1"
VERSIONED_PACKAGES = ("torch", "onnxruntime", "onnx", "executorch", "ai-edge-litert",
                      "litert-torch", "coremltools", "numpy")
CSV_COLUMNS = ("model", "width_mult", "input_size", "runtime", "precision", "threads",
               "device", "device_serial", "load_ms", "iters", *STAT_FIELDS, "peak_rss_mb",
               "max_abs_diff", "top1", "top5", "top1_agreement", "eval_images", "check",
               "flagged", "error")  # fmt: skip
# /proc/cpuinfo and macOS sysctl flag -> the name we report; asimddp is Linux's name for dotprod.
ISA_ORDER = ("avx2", "avx512f", "avx512_vnni", "avx_vnni", "fma", "neon", "dotprod", "i8mm", "sve")
ISA_ALIASES = {name: name for name in ISA_ORDER} | {
    "avx512vnni": "avx512_vnni", "asimd": "neon", "asimddp": "dotprod"}  # fmt: skip

_NULL = type(None)
# Every row carries all these fields (extra ones, e.g. "note", are kept); value -> accepted types.
# Only what names a measurement is non-null: tools' logs often omit the rest.
ROW_FIELDS: dict[str, tuple[type, ...]] = {
    "model": (str,), "width_mult": (float, _NULL), "input_size": (list, _NULL),
    "runtime": (str,), "precision": (str, _NULL), "threads": (int, _NULL), "device": (str,),
    "device_info": (dict, _NULL), "artifact": (str, _NULL), "load_ms": (float, _NULL),
    "warmup": (int, _NULL), "iters": (int, _NULL), "samples_ms": (list,),
    **{name: (float, _NULL) for name in STAT_FIELDS}, "peak_rss_mb": (float, _NULL),
    "max_abs_diff": (float, _NULL), "source": (str,), "error": (str, _NULL),
}  # fmt: skip
# Accuracy on labelled images (coordatt-bench --eval-dir): optional, null or absent elsewhere
ACCURACY_FIELDS: dict[str, tuple[type, ...]] = {
    "top1": (float, _NULL), "top5": (float, _NULL), "top1_agreement": (float, _NULL),
    "eval_images": (int, _NULL),
}  # fmt: skip
# Phone rows (the Android app, docs/formats.md "Android benchmark run"): optional elsewhere
DEVICE_FIELDS: dict[str, tuple[type, ...]] = {
    "device_serial": (str, _NULL), "eval_skipped": (int, _NULL), "memory": (dict, _NULL),
    "conditions": (dict, _NULL), "check": (dict, _NULL), "flagged": (str, _NULL),
}  # fmt: skip


# --- machine --------------------------------------------------------------------------------


def parse_cpuinfo(text: str) -> tuple[str | None, list[str]]:
    """CPU model name and ISA flags of interest from the text of Linux's /proc/cpuinfo."""
    fields: dict[str, str] = {}
    flags: set[str] = set()
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        key, value = key.strip().lower(), value.strip()
        if sep and key in ("flags", "features"):
            flags.update(value.lower().split())
        elif sep and value:
            fields.setdefault(key, value)
    # x86 has "model name" (and a numeric "model"); arm64 boards may only have Hardware / Model.
    names = [fields.get(k) for k in ("model name", "hardware", "model", "cpu model")]
    cpu = next((n for n in names if n and not n.isdigit()), None)
    found = {ISA_ALIASES[f] for f in flags if f in ISA_ALIASES}
    return cpu, [name for name in ISA_ORDER if name in found]


def _sysctl(name: str) -> str | None:
    try:
        out = subprocess.run(["sysctl", "-n", name], capture_output=True, text=True, timeout=5,
                             errors="replace")
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() if out.returncode == 0 else None


def _macos_cpu() -> tuple[str | None, list[str]]:
    keys = {"neon": "hw.optional.neon", "dotprod": "hw.optional.arm.FEAT_DotProd",
            "i8mm": "hw.optional.arm.FEAT_I8MM", "avx2": "hw.optional.avx2_0",
            "avx512f": "hw.optional.avx512f", "fma": "hw.optional.fma"}  # fmt: skip
    found = {isa for isa, key in keys.items() if _sysctl(key) == "1"}
    return _sysctl("machdep.cpu.brand_string"), [n for n in ISA_ORDER if n in found]


def machine_info() -> dict[str, Any]:
    """CPU, cores, ISA flags, OS, Python and runtime versions, for results["machine"].

    Versions come from package metadata, so no runtime is imported; missing ones are left out.
    """
    cpu, isa = None, []
    if sys.platform == "darwin":
        cpu, isa = _macos_cpu()
    else:
        try:
            cpu, isa = parse_cpuinfo(Path("/proc/cpuinfo").read_text(errors="replace"))
        except OSError:
            pass
    versions = {}
    for package in VERSIONED_PACKAGES:
        try:
            versions[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            pass
    return {"cpu": cpu or platform.processor() or platform.machine() or "unknown",
            "cores": os.cpu_count(), "isa": isa, "os": platform.platform(),
            "python": platform.python_version(), "versions": versions}  # fmt: skip


# --- document -------------------------------------------------------------------------------


def make_results(
    machine: Mapping[str, Any], config: Mapping[str, Any], rows: Iterable[Mapping[str, Any]]
) -> dict[str, Any]:
    """The validated results.json document for `rows` (dicts with docs/formats.md's fields)."""
    doc = {"schema": SCHEMA, "machine": dict(machine), "config": dict(config),
           "results": [dict(row) for row in rows]}  # fmt: skip
    validate_results(doc)
    return doc


def _type_ok(value: Any, accepted: tuple[type, ...]) -> bool:
    if isinstance(value, bool):  # bool is an int subclass, never a valid number here
        return False
    return isinstance(value, accepted) or (float in accepted and isinstance(value, int))


def _check_row(i: int, row: Any) -> None:
    if not isinstance(row, dict):
        raise ValueError(f"results[{i}] is a {type(row).__name__}, not an object")
    where = f"results[{i}] ({row.get('model', '?')} / {row.get('runtime', '?')})"
    missing = [name for name in ROW_FIELDS if name not in row]
    if missing:
        raise ValueError(f"{where}: missing field(s) {', '.join(missing)}")
    for name, accepted in ROW_FIELDS.items():
        value = row[name]
        if not _type_ok(value, accepted):
            kinds = " or ".join("null" if t is _NULL else t.__name__ for t in accepted)
            raise ValueError(f"{where}: field {name!r} is {value!r}; expected {kinds}")
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError(f"{where}: field {name!r} is {value!r}; expected a finite number")
    size = row["input_size"]
    size_ok = size is None or (len(size) == 2 and all(_type_ok(v, (int,)) and v > 0 for v in size))
    if not size_ok:
        raise ValueError(f"{where}: input_size is {size!r}; expected [height, width]")
    bad = [s for s in row["samples_ms"] if not _type_ok(s, (float,)) or not math.isfinite(s)
           or s < 0]
    if bad:
        raise ValueError(f"{where}: samples_ms holds {bad[0]!r}; expected finite numbers >= 0")
    negative = [name for name in STAT_FIELDS if row[name] is not None and row[name] < 0]
    if negative:
        raise ValueError(f"{where}: {negative[0]} is {row[negative[0]]!r}; times are >= 0")
    if row["threads"] is not None and row["threads"] < 1:
        raise ValueError(f"{where}: threads is {row['threads']}; expected 1 or more")
    for name, accepted in ACCURACY_FIELDS.items():  # optional: only runs with --eval-dir
        value = row.get(name)
        if not _type_ok(value, accepted) or (isinstance(value, float) and not 0 <= value <= 1) \
                or (isinstance(value, int) and value < 0):
            raise ValueError(f"{where}: field {name!r} is {value!r}; expected "
                             f"{'a count' if name == 'eval_images' else 'a fraction 0..1'} or "
                             f"null")
    for name, accepted in DEVICE_FIELDS.items():
        if name in row and not _type_ok(row[name], accepted):
            kinds = " or ".join("null" if k is _NULL else k.__name__ for k in accepted)
            raise ValueError(f"{where}: field {name!r} is {row[name]!r}; expected {kinds}")
    if row["error"] is None and row["median_ms"] is None and row["mean_ms"] is None:
        raise ValueError(f"{where}: no error, yet neither median_ms nor mean_ms is given")


def validate_results(doc: Any) -> None:
    """Raise ValueError naming the first problem that makes `doc` not a coordatt.bench/1 doc."""
    if not isinstance(doc, dict):
        raise ValueError(f"results document is a {type(doc).__name__}, not a JSON object")
    if doc.get("schema") != SCHEMA:
        raise ValueError(f"unknown results schema {doc.get('schema')!r}; expected {SCHEMA!r}")
    for key, kind in (("machine", dict), ("config", dict), ("results", list)):
        if key not in doc:
            raise ValueError(f"results document is missing {key!r}")
        if not isinstance(doc[key], kind):
            raise ValueError(f"{key!r} is a {type(doc[key]).__name__}; expected {kind.__name__}")
    for i, row in enumerate(doc["results"]):
        _check_row(i, row)


def load_results(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read and validate a results.json (host, or the Android app's benchmark_results.json)."""
    check_regular_file(Path(path), "results file")
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise ValueError(f"cannot read results file {os.fspath(path)}: {e}") from e
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as e:
        raise ValueError(f"{os.fspath(path)} is not JSON: {e}") from e
    validate_results(doc)
    return doc


def recompute_statistics(doc: Mapping[str, Any]) -> list[str]:
    """Recompute every row's statistics from its samples_ms, in place; returns one line per row
    whose stored statistics disagreed (those rows get a "note" saying so)."""
    changed = []
    for i, row in enumerate(doc["results"]):
        if not row["samples_ms"]:
            continue
        fresh = summarize(row["samples_ms"])
        differ = [k for k in STAT_FIELDS if row[k] is None
                  or abs(row[k] - fresh[k]) > 1e-6 * max(1.0, abs(fresh[k]))]
        if differ:
            row.update(fresh)
            note = f"recomputed {', '.join(differ)} from samples_ms (the file's values differed)"
            row["note"] = f"{row['note']}; {note}" if row.get("note") else note
            changed.append(f"results[{i}] ({row['model']} / {row['runtime']}): {note}")
    return changed


# --- files ----------------------------------------------------------------------------------


def _new_file_mode(path: Path) -> int:
    """The mode ``path`` keeps when it exists, else what open() would give under the umask
    (mkstemp's 0600 would hide results from the other users of a shared machine)."""
    try:
        return os.stat(path).st_mode & 0o7777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def _atomic_write(path: Path, data: bytes) -> None:
    # A temp file in the same folder, then os.replace: a reader never sees half a file.
    mode = _new_file_mode(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _csv_text(doc: Mapping[str, Any]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for row in doc["results"]:
        check = row.get("check")
        cells = {**row, "input_size": _size_text(row),
                 "check": check.get("status") if isinstance(check, dict) else check}
        writer.writerow(["" if cells.get(c) is None else cells[c] for c in CSV_COLUMNS])
    return out.getvalue()


def _warn(text: str) -> None:
    warnings.warn(text, stacklevel=3)


def write_results(
    doc: Mapping[str, Any], out_dir: str | os.PathLike[str], *, chart: bool = True,
    notice: Callable[[str], None] = _warn,
) -> dict[str, Path]:
    """Write results.json, results.csv and (with matplotlib) results.png into `out_dir`.

    Returns {"json", "csv", "png"} -> path of each file written. A chart that cannot be drawn
    (no matplotlib, numbers it cannot plot) is skipped with a one-line ``notice`` rather than
    losing the measurements, and an earlier run's results.png is removed, never left stale.
    """
    validate_results(doc)
    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    paths = {"json": folder / "results.json", "csv": folder / "results.csv"}
    _atomic_write(paths["json"], (json.dumps(doc, indent=2, allow_nan=False) + "\n").encode())
    _atomic_write(paths["csv"], _csv_text(doc).encode())
    png = folder / "results.png"
    if chart and doc["results"]:
        try:
            with warnings.catch_warnings():  # matplotlib's overflow warnings on huge times
                warnings.simplefilter("ignore")
                paths["png"] = render_chart(doc, png)
        except Exception as e:  # the chart is an extra: the numbers are already written
            text = (str(e).strip().splitlines() or [""])[0][:160]
            notice(f"results.png not written: {text} ({type(e).__name__})")
    if "png" not in paths and os.path.lexists(png):
        png.unlink()  # an earlier run's chart beside these numbers would mislead
    return paths


# --- chart ----------------------------------------------------------------------------------


def render_chart(doc: Mapping[str, Any], path: str | os.PathLike[str]) -> Path:
    """Draw the latency chart (coordatt.bench.chart); matplotlib is imported only here."""
    from .chart import render_chart as draw

    return draw(doc, path)
