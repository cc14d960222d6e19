"""What ``coordatt-eval`` shows and writes: a table per model, ``eval.json`` (schema
``coordatt.eval/1``, docs/formats.md) and ``eval.csv``, written atomically with the umask's mode
(an existing file keeps its own), as coordatt-bench writes its results; and the table of
``--check``."""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..bench.report import _atomic_write

__all__ = ["render_table", "render_check_table", "write_eval", "CSV_COLUMNS", "OUTPUT_NAMES"]

OUTPUT_NAMES = ("eval.json", "eval.csv")
CSV_COLUMNS = ("model", "width_mult", "input_size", "runtime", "precision", "artifact", "images",
               "top1", "top5", "top1_agreement", "top1_drop_pts", "drop_vs", "cosine_mean",
               "cosine_min", "sqnr_db", "sqnr_db_min", "max_abs_diff", "check", "error")


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"


def _num(value: float | None, fmt: str) -> str:
    return "-" if value is None else format(value, fmt)


def _first_line(text: str, limit: int = 70) -> str:
    line = (text.strip().splitlines() or ["failed"])[0]
    return line if len(line) <= limit else line[: limit - 3] + "..."


def render_table(doc: Mapping[str, Any]) -> str:
    """One block per model: top-1/top-5 on the labelled images, agreement with eager PyTorch,
    int8 drop in points, cosine and SQNR against eager, and the check file's verdict."""
    data = doc["data"]
    lines = [f"{data['images']} images of {data['classes']} classes in {data['path']} "
             f"({data['layout']})"]
    if data.get("limit") is not None:
        lines[0] += f", a seeded sample (--limit {data['limit']}, seed {data['seed']})"
    if data.get("note"):
        lines.append(data["note"])
    if data["skipped_images"]:
        lines.append(f"{data['skipped_images']} image(s) could not be decoded and were skipped "
                     f"(e.g. {Path(data['skipped_files'][0]).name})")
    if data.get("missing_files"):
        lines.append(f"{len(data['missing_files'])} file(s) the labels CSV names are missing")
    header = (f"  {'runtime':<24}  {'precision':<9}  {'top-1':>6}  {'top-5':>6}  {'agree':>6}"
              f"  {'vs fp32':>9}  {'cos mean':>8}  {'cos min':>8}  {'SQNR dB':>7}  check")
    groups: dict[int, list[Mapping[str, Any]]] = {}
    for row in doc["results"]:
        groups.setdefault(row["group"], []).append(row)
    for rows in groups.values():
        first = rows[0]
        width = "-" if first["width_mult"] is None else first["width_mult"]
        size = "x".join(map(str, first["input_size"]))
        images = max((r["images"] for r in rows), default=0)
        lines += ["", f"{first['model']}  width {width}  input {size}  ({images} images)", header]
        for row in rows:
            start = f"  {row['runtime']:<24}  {row['precision'] or '-':<9}"
            if row["error"] is not None:
                shown = _first_line(row["error"])
                shown = shown if shown.startswith("skipped") else f"error: {shown}"
                lines.append(f"{start}  {shown}")
                continue
            # shown as a change (-1.5 pts: 1.5 points below fp32); stored as the drop
            drop = "-" if row["top1_drop_pts"] is None else f"{-row['top1_drop_pts']:+.1f} pts"
            lines.append(
                f"{start}  {_pct(row['top1']):>6}  {_pct(row['top5']):>6}"
                f"  {_pct(row['top1_agreement']):>6}  {drop:>9}"
                f"  {_num(row['cosine_mean'], '.4f'):>8}  {_num(row['cosine_min'], '.4f'):>8}"
                f"  {_num(row['sqnr_db'], '.1f'):>7}  {_first_line(row['check'] or '-', 40)}")
    lines += ["", "agree: top-1 agreement with eager PyTorch fp32 on the same inputs; vs fp32: "
                  "int8 top-1 change in points against eager fp32; cos, SQNR: against eager's "
                  "logits (SQNR over all images, - where identical)"]
    return "\n".join(lines) + "\n"


def render_check_table(rows: list[Mapping[str, Any]]) -> str:
    """One line per artifact: its verdict on its check file, and the numbers behind it."""
    header = (f"  {'artifact':<48}  {'runtime':<24}  {'inputs':>6}  {'max abs diff':>12}"
              f"  {'cosine':>8}  {'SQNR dB':>7}  {'agree':>6}  verdict")
    lines = [header]
    for row in rows:
        m = row.get("metrics") or {}
        numbers = (f"  {row['inputs'] or '-':>6}  {_num(m.get('max_abs_diff'), '.3g'):>12}"
                   f"  {_num(m.get('min_cosine'), '.4f'):>8}  {_num(m.get('sqnr_db'), '.1f'):>7}"
                   f"  {_pct(m.get('top1_agreement')):>6}")
        verdict = row["status"]
        if row["status"] != "passed":
            message = _first_line(row["message"], 90)
            verdict = message if message.startswith(verdict) else f"{verdict}: {message}"
        lines.append(f"  {row['artifact'][:48]:<48}  {row['runtime'] or '-':<24}{numbers}"
                     f"  {verdict}")
    return "\n".join(lines) + "\n"


def _csv_text(doc: Mapping[str, Any]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for row in doc["results"]:
        cells = {**row, "input_size": "x".join(map(str, row["input_size"] or []))}
        writer.writerow(["" if cells.get(c) is None else cells[c] for c in CSV_COLUMNS])
    return out.getvalue()


def write_eval(doc: Mapping[str, Any], out_dir: str | os.PathLike[str]) -> dict[str, Path]:
    """Write eval.json and eval.csv into ``out_dir`` (created); returns their paths."""
    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    paths = {"json": folder / "eval.json", "csv": folder / "eval.csv"}
    _atomic_write(paths["json"], (json.dumps(doc, indent=2, allow_nan=False) + "\n").encode())
    _atomic_write(paths["csv"], _csv_text(doc).encode())
    return paths
