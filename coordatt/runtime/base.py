"""The interface every runtime implements: prepare (imports), load (an artifact, with threads),
run (a float32 [1, 3, H, W] array -> logits), close; a per-operator profile where it has one."""

from __future__ import annotations

from pathlib import Path

import numpy as np

__all__ = ["Session"]


class Session:
    """One loaded model in one runtime.

    ``prepare`` imports the backend (a Python import is not the runtime's load time), ``load``
    reads the artifact (what a harness times as load time), ``run`` returns the logits as a
    float32 numpy array, ``close`` releases it. ``threads`` None leaves the runtime's default.
    As a context manager it is prepared and loaded on entry, closed on exit.
    """

    runtime = "?"

    def __init__(self, runtime: str, threads: int | None, artifact: Path | None = None,
                 model=None) -> None:
        self.runtime = runtime
        self.threads = threads
        self.path = None if artifact is None else Path(artifact)
        self.model = model

    def prepare(self) -> None:
        """Import the backend."""

    def load(self) -> None:
        raise NotImplementedError

    def run(self, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def close(self) -> None:
        """Release the loaded model; the session can be loaded again."""

    def profile(self, x: np.ndarray, n: int) -> list[dict]:
        """Per-operator-kind time per inference over ``n`` runs (rows of :func:`op_rows`)."""
        raise NotImplementedError(f"no per-operator profiler for {self.runtime}")

    def __enter__(self) -> Session:
        self.prepare()
        self.load()
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def op_rows(totals_ms: dict[str, float], calls: dict[str, int], runs: int) -> list[dict]:
    """Profile rows, slowest first: operator kind, calls per run, ms per run, share of the sum."""
    grand = sum(totals_ms.values()) or 1.0
    rows = [{"op": op, "calls": calls[op] // runs, "ms": t / runs, "share": t / grand}
            for op, t in totals_ms.items()]
    return sorted(rows, key=lambda r: -r["ms"])
