"""What the robustness probes check after a command ran: the one line it printed (no traceback)
and everything left in a folder, hidden files included."""

from __future__ import annotations

from pathlib import Path


def listing(folder: Path) -> list[str]:
    """Everything under ``folder``, hidden files too, as sorted relative paths ([] if absent)."""
    if not folder.exists():
        return []
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


def one_line_error(err: str, starts: str = "error: ") -> str:
    """The single line of ``err`` (progress milestones, indented, aside), which starts with
    ``starts``; fails on a traceback or on more than one line."""
    assert "Traceback" not in err, err
    lines = [ln for ln in err.splitlines() if ln.strip() and not ln.startswith("  ")]
    assert len(lines) == 1, err
    assert lines[0].startswith(starts), err
    return lines[0]
