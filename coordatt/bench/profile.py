"""Rendering a per-operator profile (``coordatt-bench --profile``): where the milliseconds go.

Each runtime's profiler lives with the runtime (``Session.profile`` in coordatt.runtime): ETDump
and the devtools Inspector for ExecuTorch, ORT's profiler, LiteRT's op profiler, torch.profiler.
"""

from __future__ import annotations

__all__ = ["render_profile"]


def render_profile(title: str, rows: list[dict], top: int = 12) -> str:
    lines = [title, f"  {'operator':<48} {'calls':>6} {'ms/run':>8} {'share':>6}"]
    for r in rows[:top]:
        lines.append(f"  {r['op'][:48]:<48} {r['calls']:>6} {r['ms']:>8.3f} {r['share']:>6.1%}")
    rest = rows[top:]
    if rest:
        lines.append(f"  {'(' + str(len(rest)) + ' more)':<48} {'':>6} "
                     f"{sum(r['ms'] for r in rest):>8.3f} {sum(r['share'] for r in rest):>6.1%}")
    return "\n".join(lines)
