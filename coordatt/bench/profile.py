"""Rendering a per-operator profile (``coordatt-bench --profile``): where the milliseconds go,
and, when a network and the same network without attention were both profiled, what the
attention adds operator by operator (its share of the network's profiled time).

Each runtime's profiler lives with the runtime (``Session.profile`` in coordatt.runtime): ETDump
and the devtools Inspector for ExecuTorch, ORT's profiler, torch.profiler.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .table import baseline_of

__all__ = ["render_profile", "render_attention_cost", "render_profiles", "write_profiles",
           "PROFILE_SCHEMA"]

PROFILE_SCHEMA = "coordatt.profile/1"


def render_profile(title: str, rows: list[dict], top: int = 12) -> str:
    lines = [title, f"  {'operator':<48} {'calls':>6} {'ms/run':>8} {'share':>6}"]
    for r in rows[:top]:
        lines.append(f"  {r['op'][:48]:<48} {r['calls']:>6} {r['ms']:>8.3f} {r['share']:>6.1%}")
    rest = rows[top:]
    if rest:
        lines.append(f"  {'(' + str(len(rest)) + ' more)':<48} {'':>6} "
                     f"{sum(r['ms'] for r in rest):>8.3f} {sum(r['share'] for r in rest):>6.1%}")
    return "\n".join(lines)


def render_attention_cost(profile: Mapping[str, Any], baseline: Mapping[str, Any],
                          top: int = 12) -> str:
    """Operator by operator, ``profile`` minus ``baseline`` (the same network without
    attention, same runtime and threads): extra calls and milliseconds, each as a share of
    ``profile``'s profiled time; the last line is the attention's whole share."""
    ours = {r["op"]: r for r in profile["operators"]}
    theirs = {r["op"]: r for r in baseline["operators"]}
    total = sum(r["ms"] for r in ours.values())
    base_total = sum(r["ms"] for r in theirs.values())
    diffs = []
    for op in {*ours, *theirs}:
        a, b = ours.get(op, {"calls": 0, "ms": 0.0}), theirs.get(op, {"calls": 0, "ms": 0.0})
        diffs.append((op, a["calls"] - b["calls"], a["ms"] - b["ms"]))
    diffs.sort(key=lambda d: (-abs(d[2]), d[0]))
    share = (lambda ms: ms / total) if total > 0 else (lambda ms: 0.0)
    lines = [f"{profile['model']} minus {baseline['model']} / {profile['runtime']} / "
             f"{profile['threads']} thread(s): what the attention adds",
             f"  {'operator':<48} {'+calls':>6} {'+ms/run':>8} {'share':>7}"]
    for op, calls, ms in diffs[:top]:
        lines.append(f"  {op[:48]:<48} {calls:>+6} {ms:>+8.3f} {share(ms):>+7.1%}")
    rest = diffs[top:]
    if rest:
        ms = sum(d[2] for d in rest)
        lines.append(f"  {'(' + str(len(rest)) + ' more)':<48} {sum(d[1] for d in rest):>+6} "
                     f"{ms:>+8.3f} {share(ms):>+7.1%}")
    lines.append(f"  {'all operators':<48} {'':>6} {total - base_total:>+8.3f} "
                 f"{share(total - base_total):>+7.1%}   ({profile['model']} {total:.3f} ms, "
                 f"{baseline['model']} {base_total:.3f} ms profiled)")
    return "\n".join(lines)


def _key(p: Mapping[str, Any], model: str) -> tuple:
    return model, p["runtime"], p["threads"], p.get("width_mult"), tuple(p.get("input_size") or ())


def render_profiles(profiles: Mapping[str, Mapping[str, Any]]) -> str:
    """Every profile, then what each attention network adds over its baseline (when both were
    profiled on the same runtime and threads)."""
    parts = [render_profile(label, p["operators"]) for label, p in profiles.items()]
    by_key = {_key(p, p["model"]): p for p in profiles.values()}
    for p in profiles.values():
        base = baseline_of(p["model"])
        if base is not None and (found := by_key.get(_key(p, base))) is not None:
            parts.append(render_attention_cost(p, found))
    return "\n\n".join(parts)


def write_profiles(profiles: Mapping[str, Mapping[str, Any]], path: Path,
                   machine: Mapping[str, Any]) -> Path:
    """``profile.json``: every operator row of every profile, with the machine it ran on."""
    from .report import _atomic_write

    doc = {"schema": PROFILE_SCHEMA, "machine": dict(machine),
           "profiles": [{"label": label, **p} for label, p in profiles.items()]}
    _atomic_write(path, (json.dumps(doc, indent=1) + "\n").encode())
    return path
