"""The latency chart of a results document: per device and thread count, each runtime's median
with its spread (p25-p75 box, p10-p90 whiskers), one color per model variant."""

from __future__ import annotations

import io
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .report import _atomic_write
from .stats import percentile
from .table import _model_key, _row_order, _size_text, device_label

MODEL_COLORS = ("#4c72b0", "#dd8452", "#55a868", "#c44e52", "#8172b3", "#937860")


def _center_ms(row: Mapping[str, Any]) -> float | None:
    return row["median_ms"] if row["median_ms"] is not None else row["mean_ms"]


def _draw_spread(ax: Any, row: Mapping[str, Any], y: float, height: float, color: str) -> None:
    """Bar to the median, box p25-p75, whiskers p10-p90 (min-p90 without samples)."""
    samples, center = sorted(row["samples_ms"]), _center_ms(row)
    # The faint bar makes runtimes comparable at a glance; the box and whiskers show spread.
    ax.barh(y, center, height=height, color=color, alpha=0.25)
    low, high = row["min_ms"], row["p90_ms"]
    if samples:
        low, p25, p75, high = (percentile(samples, q) for q in (10, 25, 75, 90))
        ax.barh(y, p75 - p25, left=p25, height=height, color=color)
    if low is not None and high is not None:
        ax.hlines(y, low, high, color=color, linewidth=1.2)
        ax.vlines([low, high], y - height / 4, y + height / 4, color=color, linewidth=1.2)
    ax.vlines(center, y - height / 2, y + height / 2, color="black", linewidth=1.6)
    text = f"{center:.0f}" if 100 <= center < 1e7 else f"{center:.3g}"
    kind = "" if row["median_ms"] is not None else " (mean)"
    if row.get("top1") is not None:  # --eval-dir: accuracy beside latency
        kind += f", top-1 {100 * row['top1']:.1f}%"
    if row.get("flagged"):  # its check failed on the phone: not a result
        kind += ", FLAGGED: check failed"
    ax.annotate(f"{text} ms{kind}", (max(center, high or center), y), xytext=(4, 0),
                textcoords="offset points", va="center", fontsize=7)  # fmt: skip


def render_chart(doc: Mapping[str, Any], path: str | os.PathLike[str]) -> Path:
    """Draw latency per runtime and model, with the spread of the samples, as a PNG at `path`.

    One panel per (device, thread count); a log x axis when medians span more than 20x.
    """
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as e:
        raise ImportError('the chart needs matplotlib: pip install "coordatt[bench]"') from e
    rows = doc["results"]
    if not rows:
        raise ValueError("no results to chart")
    panels = sorted({(device_label(r), r["threads"]) for r in rows},
                    key=lambda p: (p[0] != "host", p[0], p[1] is None, p[1] or 0))  # fmt: skip
    one_variant = len({_model_key(r)[1:] for r in rows}) == 1

    def label(row: Mapping[str, Any]) -> str:
        if one_variant:
            return row["model"]
        width = f"{row['width_mult']}x" if row["width_mult"] is not None else "width ?"
        return f"{row['model']} {width} {_size_text(row) or 'input ?'}"

    models = sorted({label(r) for r in rows})
    colors = {m: MODEL_COLORS[i % len(MODEL_COLORS)] for i, m in enumerate(models)}
    centers = [c for r in rows if r["error"] is None and (c := _center_ms(r)) is not None]
    # a log axis needs positive times: a 0 ms median (a coarse clock) keeps it linear
    log_x = bool(centers) and min(centers) > 0 and max(centers) > 20 * min(centers)
    categories = {}
    for panel in panels:
        in_panel = [r for r in rows if (device_label(r), r["threads"]) == panel]
        ordered = [(r["runtime"], r["precision"]) for r in sorted(in_panel, key=_row_order)]
        categories[panel] = list(dict.fromkeys(ordered))  # unique, in runtime order
    heights = [0.38 * len(models) * len(categories[p]) + 0.8 for p in panels]
    fig, axes = plt.subplots(len(panels), 1, figsize=(10, sum(heights) + 1.2), sharex=True,
                             squeeze=False, gridspec_kw={"height_ratios": heights})  # fmt: skip
    band = 0.8 / len(models)
    for ax, (device, threads) in zip(axes[:, 0], panels, strict=True):
        count = "? threads" if threads is None else f"{threads} thread{'s' * (threads != 1)}"
        ax.set_title(f"{device}, {count}", fontsize=10, loc="left")
        cats = categories[(device, threads)]
        for row in (r for r in rows if (device_label(r), r["threads"]) == (device, threads)):
            y = cats.index((row["runtime"], row["precision"]))
            y += (models.index(label(row)) - (len(models) - 1) / 2) * band
            if row["error"] is None:
                _draw_spread(ax, row, y, band * 0.8, colors[label(row)])
            else:
                status = "skipped" if row["error"].startswith("skipped") else "failed"
                ax.text(0.01, y, f"{label(row)}: {status}", transform=ax.get_yaxis_transform(),
                        va="center", fontsize=8, color="#b22222")  # fmt: skip
        ax.set_yticks(range(len(cats)))
        ax.set_yticklabels([rt if p in (None, "fp32") or p in rt else f"{rt} ({p})"
                            for rt, p in cats])  # fmt: skip
        ax.set_ylim(len(cats) - 0.5, -0.5)
        ax.grid(axis="x", which="both", alpha=0.3)
        if log_x:
            ax.set_xscale("log")
    bottom = axes[-1, 0]
    bottom.set_xlabel("ms per inference (bar, black line: median; box: p25-p75; whiskers: p10-p90)")
    if centers and max(centers) > 0:
        low, high = min(centers), max(centers)
        bottom.set_xlim((low / 2, high * 3) if log_x else (0, high * 1.35))
    handles = [plt.Rectangle((0, 0), 1, 1, color=colors[m]) for m in models]
    fig.legend(handles, models, loc="upper right", fontsize=8, frameon=False)
    # The machine block describes the host; phone-only results are named by their panels.
    where = f"host: {doc['machine'].get('cpu', 'unknown CPU')}" if panels[0][0] == "host" else ""
    fig.suptitle(f"coordatt-bench latency (lower is better)\n{where}", fontsize=11, x=0.02,
                 ha="left")  # fmt: skip
    fig.tight_layout(rect=(0, 0, 1, 0.98))
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=120)
    plt.close(fig)
    out = Path(path)
    _atomic_write(out, buffer.getvalue())
    return out
