"""The latency table of a results document (coordatt.bench.report): per device, per model, one
line per runtime and thread count, with accuracy beside latency when the run evaluated
(``--eval-dir``); then each attention network's overhead against the same network without it.

Host rows and phone rows are never compared with each other: each device has its own section,
each phone too (by its adb serial: two phones of one model are two sections). Phone rows show
their check verdict, memory and measuring conditions; a flagged row (its check failed on the
phone) is marked, never shown as a plain result.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from coordatt.bench.stats import ratio

from ..runtime import NAMES as runtime_names

__all__ = ["render_table", "RUNTIME_ORDER", "ATTENTION_SUFFIXES", "baseline_of",
           "device_label", "condition_notes"]

RUNTIME_ORDER = runtime_names  # the runtime layer's order: eager, ExecuTorch, ORT, LiteRT, ...

# a network with attention and the same network without it: mobilenetv2_ca vs mobilenetv2, ...
ATTENTION_SUFFIXES = ("_ca", "_se", "_cbam")


def baseline_of(model: str) -> str | None:
    """The same network without attention: mobilenetv2 for mobilenetv2_ca, or None."""
    for suffix in ATTENTION_SUFFIXES:
        if model.endswith(suffix):
            return model[: -len(suffix)]
    return None


def _size_text(row: Mapping[str, Any]) -> str:
    return "x".join(map(str, row["input_size"])) if row["input_size"] else ""


def _model_key(row: Mapping[str, Any]) -> tuple:
    width, size = row["width_mult"], row["input_size"]
    return row["model"], width is None, width or 0.0, tuple(size or ())


def _row_order(row: Mapping[str, Any]) -> tuple:
    runtime, threads = row["runtime"], row["threads"]
    rank = RUNTIME_ORDER.index(runtime) if runtime in RUNTIME_ORDER else len(RUNTIME_ORDER)
    return threads is None, threads or 0, rank, runtime, row["precision"] or ""


def device_label(row: Mapping[str, Any]) -> str:
    """The device a row was measured on: "host", or the phone's model and adb serial."""
    serial = row.get("device_serial")
    return f"{row['device']} [{serial}]" if serial else row["device"]


def _devices(rows: list[Mapping[str, Any]]) -> list[str]:
    names = {device_label(row) for row in rows}
    return (["host"] if "host" in names else []) + sorted(names - {"host"})


def _device_heading(device: str, rows: list[Mapping[str, Any]], machine: Mapping) -> str:
    if device == "host":
        cores = machine.get("cores")
        return f"host: {machine.get('cpu', 'unknown CPU')}" + (f", {cores} cores" if cores else "")
    info = next((r["device_info"] for r in rows if r["device_info"]), None) or {}
    details = ", ".join(f"{k} {info[k]}" for k in ("soc", "abi", "android") if info.get(k))
    return f"device: {device}" + (f" ({details})" if details else "")


# PowerManager.THERMAL_STATUS_MODERATE: the phone throttles from here on
HOT_THERMAL_STATUS = 2
HOT_BATTERY_C = 40.0


def condition_notes(row: Mapping[str, Any]) -> list[str]:
    """What a phone row's conditions say against trusting its timing as is."""
    cond = row.get("conditions") or {}
    notes = []
    status = max((s for s in (cond.get("thermal_status_start"), cond.get("thermal_status_end"))
                  if isinstance(s, int)), default=None)
    battery = cond.get("battery_temp_c")
    if status is not None and status >= HOT_THERMAL_STATUS:
        notes.append(f"hot (thermal {status})")
    elif isinstance(battery, (int, float)) and battery >= HOT_BATTERY_C:
        notes.append(f"hot (battery {battery:.0f}C)")
    if cond.get("screen_on") is False:
        notes.append("screen off")
    if cond.get("foreground") is False:
        notes.append("not foreground")
    return notes


def _check_text(row: Mapping[str, Any]) -> str:
    check = row.get("check")
    if not isinstance(check, dict):
        return "-"
    status = str(check.get("status") or "-")
    return "FAILED" if status == "failed" else status


def _text(value: Any, ms: bool = False) -> str:
    if value is None:
        return "-"
    if ms:
        return f"{value:.2f}" if value < 1e7 else f"{value:.3g}"
    return str(value)


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"


def _speedup(eager_ms: float, runtime_ms: float) -> str:
    if not eager_ms or not runtime_ms:
        return "-"  # a 0 ms median (a coarse clock): no ratio to show
    value = ratio(eager_ms, runtime_ms)
    if value >= 1e5 or value < 1e-3:
        return f"{value:.2g}x"
    return f"{value:.1f}x" if value >= 0.95 else f"{value:.2f}x"  # portable: 0.03x, not 0.0x


def _first_line(text: str, limit: int = 90) -> str:
    line = text.strip().splitlines()[0] if text.strip() else "failed"
    return line if len(line) <= limit else line[: limit - 3] + "..."


def _eager_medians(rows: list[Mapping[str, Any]]) -> dict[tuple, float]:
    eager: dict[tuple, float] = {}
    for row in rows:
        if row["runtime"] == "eager" and row["error"] is None and row["median_ms"] is not None:
            eager.setdefault((_model_key(row), row["threads"]), row["median_ms"])
    return eager


def _ca_overhead_lines(rows: list[Mapping[str, Any]]) -> list[str]:
    """Each attention network against the same network without attention, measured alike
    (mobilenetv2_ca vs mobilenetv2, mobilenext_se vs mobilenext, ...)."""
    medians: dict[tuple, dict[str, Mapping[str, Any]]] = {}
    for row in sorted(rows, key=_row_order):
        if row["error"] is None and row["median_ms"] is not None:
            key = (_model_key(row)[1:], _row_order(row))
            medians.setdefault(key, {}).setdefault(row["model"], row)
    pairs = [(m[baseline_of(name)], row) for m in medians.values() for name, row in m.items()
             if baseline_of(name) in m and m[baseline_of(name)]["median_ms"] > 0]
    if not pairs:
        return []
    header = (f"  {'width':>5}  {'input':<7}  {'runtime':<24}  {'precision':<9}  {'threads':>7}"
              f"  {'model':<16}  {'baseline ms':>11}  {'ms':>8}  {'overhead':>8}")  # fmt: skip
    lines = ["", "Attention overhead (median ms, each network vs the same without attention)",
             header]
    for base, net in sorted(pairs, key=lambda p: (p[1]["model"], _row_order(p[1]))):
        overhead = (ratio(net["median_ms"], base["median_ms"]) - 1) * 100
        lines.append(
            f"  {_text(net['width_mult']):>5}  {_size_text(net) or '-':<7}  {net['runtime']:<24}"
            f"  {_text(net['precision']):<9}  {_text(net['threads']):>7}  {net['model']:<16}"
            f"  {_text(base['median_ms'], True):>11}  {_text(net['median_ms'], True):>8}"
            f"  {overhead:>+7.1f}%"
        )
    return lines


def render_table(doc: Mapping[str, Any]) -> str:
    """A plain-text report: per device, per model, one line per row; then the CA overhead."""
    rows = doc["results"]
    columns = ("runtime", "precision", "threads", "median ms", "p90 ms", "min ms", "std ms",
               "load ms", "vs eager")  # fmt: skip
    header = "  {:<24}  {:<9}  {:>7}  {:>9}  {:>9}  {:>9}  {:>8}  {:>8}  {:>8}".format(*columns)
    lines: list[str] = []
    for device in _devices(rows):
        device_rows = [r for r in rows if device_label(r) == device]
        lines += [""] if lines else []
        lines.append(_device_heading(device, device_rows, doc["machine"]))
        eager = _eager_medians(device_rows)
        # accuracy on the device's own rows only (--eval-dir): never one device's beside another's
        accuracy = any(r.get("top1") is not None for r in device_rows)
        phone = any(isinstance(r.get("check"), dict) or r.get("memory") or r.get("conditions")
                    for r in device_rows)
        extra = f"  {'top-1':>6}  {'agree':>6}" if accuracy else ""
        extra += f"  {'check':<7}  {'+pss MB':>7}  notes" if phone else ""
        for model_key in sorted({_model_key(r) for r in device_rows}):
            group = sorted((r for r in device_rows if _model_key(r) == model_key), key=_row_order)
            first = group[0]
            title = f"{first['model']}  width {_text(first['width_mult'])}"
            lines += ["", f"{title}  input {_size_text(first) or '-'}", header + extra]
            for row in group:
                mark = "!" if row.get("flagged") else " "
                start = (f" {mark}{row['runtime']:<24}  {_text(row['precision']):<9}"
                         f"  {_text(row['threads']):>7}")  # fmt: skip
                if row["error"] is not None:
                    error = _first_line(row["error"])
                    shown = error if error.startswith("skipped") else f"error: {error}"
                    lines.append(f"{start}  {shown}")
                    continue
                baseline = eager.get((model_key, row["threads"]))
                median = row["median_ms"]
                speedup = _speedup(baseline, median) if baseline and median else "-"
                numbers = [row[k] for k in ("median_ms", "p90_ms", "min_ms")]
                line = start + "".join(f"  {_text(v, ms=True):>9}" for v in numbers)
                std, load = _text(row["std_ms"], ms=True), _text(row["load_ms"], ms=True)
                line += f"  {std:>8}  {load:>8}  {speedup:>8}"
                if accuracy:
                    line += f"  {_percent(row.get('top1')):>6}"
                    line += f"  {_percent(row.get('top1_agreement')):>6}"
                if phone:
                    pss = (row.get("memory") or {}).get("pss_delta_mb")
                    notes = condition_notes(row)
                    notes += ["FLAGGED: not a result"] if row.get("flagged") else []
                    line += f"  {_check_text(row):<7}  {_text(pss, ms=True):>7}"
                    line += f"  {', '.join(notes)}" if notes else ""
                if median is None:  # a tool that reports only a mean (minibench, perf_test)
                    line += f"  (mean {row['mean_ms']:.2f}, no per-run samples)"
                lines.append(line.rstrip())
        lines += _ca_overhead_lines([r for r in device_rows if not r.get("flagged")])
        if accuracy:
            images = max((r.get("eval_images") or 0) for r in device_rows)
            where = "on the phone" if phone else "(--eval-dir)"
            lines += ["", f"top-1 on {images} labelled images {where}; agree: top-1 "
                          f"agreement with eager PyTorch fp32 on the same images"]
        flagged = [r for r in device_rows if r.get("flagged")]
        if flagged:
            lines += [""] + [f"! flagged: {r['runtime']} {r['artifact'] or ''} "
                             f"({_text(r['threads'])} thread(s)): {_first_line(r['flagged'])}"
                             for r in flagged]
        if phone:
            lines += ["", "check: the artifact's check file run on the phone before timing; "
                          "+pss MB: its memory against a baseline taken just before it loaded"]
    return "\n".join(lines) + "\n"
