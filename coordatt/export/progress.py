"""Progress for long steps: a line per step with its time, and a ticking clock on a terminal.

The ticker writes to a duplicate of the terminal's stderr taken before third-party noise is
silenced (coordatt._quiet redirects fd 2), so it stays visible while the noise does not.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
import time
from collections.abc import Iterator

__all__ = ["step"]


@contextlib.contextmanager
def step(label: str, *, enabled: bool = True) -> Iterator[None]:
    """``with step("lowering to XNNPACK"):`` prints ``label ... 12.3 s`` (or ``failed``)."""
    if not enabled:
        yield
        return
    sys.stderr.flush()
    out = os.fdopen(os.dup(2), "w", buffering=1)
    tty = out.isatty()
    start = time.monotonic()
    done = threading.Event()

    def tick() -> None:
        while not done.wait(0.5):
            out.write(f"\r  {label} ... {time.monotonic() - start:4.0f} s")

    ticker = threading.Thread(target=tick, daemon=True) if tty else None
    if ticker:
        ticker.start()
    else:
        out.write(f"  {label} ...")
        out.flush()
    outcome = "failed"
    try:
        yield
        outcome = f"{time.monotonic() - start:.1f} s"
    finally:
        done.set()
        if ticker:
            ticker.join()
            out.write(f"\r  {label} ... {outcome}      \n")
        else:
            out.write(f" {outcome}\n")
        out.close()
