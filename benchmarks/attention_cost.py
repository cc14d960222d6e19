"""What each attention block costs, from one coordatt-bench run: Markdown tables for
benchmarks/README.md, computed from the raw samples of a results.json (and a profile.json).

    python benchmarks/attention_cost.py benchmarks/results.json [--profile benchmarks/profile.json]
    python benchmarks/attention_cost.py --passes benchmarks/passes/*/results.json

- overhead: median(network with attention) / median(the same network without it) - 1, each
  runtime, precision and thread count of the run, with a 95% bootstrap interval (the two rows'
  samples resampled independently, 2000 times, seeded): a target is met only when the whole
  interval is below it;
- int8 speed-up: median(fp32) / median(int8) of the same network and runtime family;
- threads: how much of each network's time a second thread takes off, and what the attention's
  own milliseconds (network minus baseline) do at 2 threads;
- profile: what the attention adds in each profile (coordatt-bench --profile's last line);
- ``--passes``: several runs of the same rows: each run's overhead (and int8 speed-up), their
  median and range, since drift between runs is larger than the noise within one.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from coordatt.bench.table import baseline_of

FAMILY = {"executorch-xnnpack": "ExecuTorch XNNPACK",
          "executorch-xnnpack-int8": "ExecuTorch XNNPACK",
          "onnxruntime": "ONNX Runtime", "onnxruntime-int8": "ONNX Runtime",
          "litert": "LiteRT", "litert-int8": "LiteRT", "eager": "eager PyTorch"}
_RNG_SEED = 0


def _rows(doc: dict) -> dict[tuple, dict]:
    return {(r["model"], r["runtime"], r["threads"]): r for r in doc["results"]
            if r["error"] is None and r["samples_ms"]}


def ratio_interval(num: list[float], den: list[float],
                   n: int = 2000) -> tuple[float, float, float]:
    """median(num) / median(den) and its 95% bootstrap interval."""
    rng = np.random.default_rng(_RNG_SEED)
    a, b = np.asarray(num), np.asarray(den)
    boot = (np.median(rng.choice(a, (n, a.size)), axis=1)
            / np.median(rng.choice(b, (n, b.size)), axis=1))
    return float(np.median(a) / np.median(b)), *map(float, np.percentile(boot, [2.5, 97.5]))


def _ratio_cell(num: dict | None, den: dict | None, shift: float, fmt: str, bound: str,
                suffix: str = "") -> str:
    """``median(num) / median(den) - shift`` with its interval, or "-" when a row is missing."""
    if num is None or den is None:
        return "-"
    r, lo, hi = ratio_interval(num["samples_ms"], den["samples_ms"])
    return f"{r - shift:{fmt}}{suffix} [{lo - shift:{bound}}, {hi - shift:{bound}}]"


def _label(runtime: str, precision: str) -> str:
    return f"{FAMILY.get(runtime, runtime)} {precision}"


def overhead_table(doc: dict) -> str:
    rows = _rows(doc)
    models = list(dict.fromkeys(r["model"] for r in doc["results"]))
    attn = [m for m in models if baseline_of(m) in models]
    lines = ["| runtime | threads | " + " | ".join(f"{m} ms" for m in models) + " | "
             + " | ".join(f"{m} overhead" for m in attn) + " |",
             "|---|---|" + "---|" * (len(models) + len(attn))]
    keys = list(dict.fromkeys((r["runtime"], r["precision"], r["threads"])
                              for r in doc["results"] if r["error"] is None))
    for runtime, precision, threads in keys:
        cells = [f"{rows[(m, runtime, threads)]['median_ms']:.2f}"
                 if (m, runtime, threads) in rows else "-" for m in models]
        cells += [_ratio_cell(rows.get((m, runtime, threads)),
                              rows.get((baseline_of(m), runtime, threads)), 1, "+.1%", "+.0%")
                  for m in attn]
        lines.append(f"| {_label(runtime, precision)} | {threads} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def int8_speedup_table(doc: dict, models: list[str]) -> str:
    rows = _rows(doc)
    lines = ["| runtime | threads | " + " | ".join(f"{m} fp32/int8" for m in models) + " |",
             "|---|---|" + "---|" * len(models)]
    threads_all = sorted({r["threads"] for r in doc["results"] if r["threads"]})
    for fp32 in ("executorch-xnnpack", "onnxruntime", "litert"):
        for threads in threads_all:
            cells = [_ratio_cell(rows.get((m, fp32, threads)),
                                 rows.get((m, f"{fp32}-int8", threads)), 0, ".2f", ".2f", "x")
                     for m in models]
            lines.append(f"| {FAMILY[fp32]} | {threads} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def thread_table(doc: dict, model: str) -> str:
    """For ``model`` and its baseline: 1 -> 2 thread speed-up, and the attention's own ms."""
    rows, base = _rows(doc), baseline_of(model)
    lines = [f"| runtime | {base} 1 -> 2 threads | {model} 1 -> 2 threads | attention ms at 1 "
             f"thread | at 2 threads | attention share at 1 -> 2 threads |",
             "|---|---|---|---|---|---|"]
    for runtime, precision in dict.fromkeys((r["runtime"], r["precision"]) for r in doc["results"]):
        got = [rows.get((m, runtime, t)) for m in (base, model) for t in (1, 2)]
        if any(g is None for g in got):
            continue
        b1, b2, m1, m2 = (g["median_ms"] for g in got)
        lines.append(f"| {_label(runtime, precision)} | {b1 / b2:.2f}x | {m1 / m2:.2f}x | "
                     f"{m1 - b1:.2f} | {m2 - b2:.2f} | "
                     f"{(m1 - b1) / m1:.0%} -> {(m2 - b2) / m2:.0%} |")
    return "\n".join(lines)


def profile_table(profile: dict) -> str:
    by = {(p["model"], p["runtime"], p["threads"]): p for p in profile["profiles"]}
    lines = ["| model | runtime | threads | profiled ms | baseline ms | attention's share |",
             "|---|---|---|---|---|---|"]
    for (model, runtime, threads), p in by.items():
        base = by.get((baseline_of(model), runtime, threads))
        if base is None:
            continue
        total = sum(r["ms"] for r in p["operators"])
        base_total = sum(r["ms"] for r in base["operators"])
        share = (total - base_total) / total if total else 0.0
        lines.append(f"| {model} | {runtime} | {threads} | {total:.2f} | {base_total:.2f} | "
                     f"{share:.1%} |")
    return "\n".join(lines)


def passes_table(docs: list[dict]) -> str:
    """Per (model with attention, runtime, threads): each pass's overhead, median and range;
    per (model, fp32 runtime, threads): the int8 speed-up likewise."""
    per: dict[tuple, list[float]] = {}
    for doc in docs:
        rows = _rows(doc)
        for (model, runtime, threads), r in rows.items():
            base = rows.get((baseline_of(model), runtime, threads))
            if base is not None:
                per.setdefault(("overhead", model, runtime, r["precision"], threads), []).append(
                    r["median_ms"] / base["median_ms"] - 1)
            int8 = rows.get((model, f"{runtime}-int8", threads))
            if int8 is not None:
                per.setdefault(("int8 speed-up", model, runtime, "", threads), []).append(
                    r["median_ms"] / int8["median_ms"])
    lines = [f"| measure | model | runtime | threads | median of {len(docs)} passes | range | "
             "each pass |", "|---|---|---|---|---|---|---|"]
    for (what, model, runtime, precision, threads), values in per.items():
        if len(values) < 2:  # measured in one pass only: the single-run tables have it
            continue
        fmt = (lambda v: f"{v:+.1%}") if what == "overhead" else (lambda v: f"{v:.2f}x")
        label = _label(runtime, precision) if precision else FAMILY.get(runtime, runtime)
        lines.append(f"| {what} | {model} | {label} | {threads} | "
                     f"**{fmt(float(np.median(values)))}** | {fmt(min(values))} to "
                     f"{fmt(max(values))} | {', '.join(fmt(v) for v in values)} |")
    return "\n".join(lines)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("results", type=Path, nargs="?")
    p.add_argument("--profile", type=Path)
    p.add_argument("--passes", type=Path, nargs="+", metavar="RESULTS_JSON")
    args = p.parse_args()
    if args.passes:
        docs = [json.loads(path.read_text()) for path in args.passes]
        isas = {", ".join(d["machine"].get("isa", [])) for d in docs}
        print(f"{len(docs)} passes; isa {' / '.join(sorted(isas))}\n")
        print(passes_table(docs))
        return
    if args.results is None:
        p.error("give a results.json, or --passes RESULTS_JSON...")
    doc = json.loads(args.results.read_text())
    m = doc["machine"]
    print(f"machine: {m.get('cpu')}, {m.get('cores')} cores, isa {', '.join(m.get('isa', []))}\n")
    print("## Median ms and attention overhead [95% bootstrap interval]\n")
    print(overhead_table(doc))
    models = list(dict.fromkeys(r["model"] for r in doc["results"]))
    print("\n## int8 speed-up over fp32 [95% bootstrap interval]\n")
    print(int8_speedup_table(doc, models))
    for model in models:
        if baseline_of(model) in models:
            print(f"\n## Threads: {model}\n")
            print(thread_table(doc, model))
    if args.profile:
        print("\n## Profiles: the attention's share of the profiled time\n")
        print(profile_table(json.loads(args.profile.read_text())))


if __name__ == "__main__":
    main()
