"""The console scripts' entry points: import the command's module (torch and the backends, a
few seconds) with Ctrl-C and SIGTERM noted rather than raised, so that a signal in those seconds
ends the command with one line, not a traceback, and is never lost (torch's import can swallow a
KeyboardInterrupt raised inside it). Everything after the import is the command's own ``main``.
"""

from __future__ import annotations

import importlib
import signal
import sys

__all__ = ["export", "bench", "train", "eval"]


def _run(module: str) -> None:
    received: list[int] = []
    watched = [s for s in (signal.SIGINT, signal.SIGTERM)
               if signal.getsignal(s) not in (signal.SIG_IGN, None)]  # ignored stays ignored
    previous = {s: signal.signal(s, lambda signum, frame: received.append(signum))
                for s in watched}
    try:
        importlib.import_module("torch")  # every command needs it; the longest import
        main = importlib.import_module(module).main
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
    if received:
        print("interrupted while starting; nothing was done", file=sys.stderr)
        sys.exit(130)
    sys.exit(main())


def export() -> None:
    _run("coordatt.export.cli")


def bench() -> None:
    _run("coordatt.bench.cli")


def train() -> None:
    _run("coordatt.train.cli")


def eval() -> None:  # noqa: A001 (the console script's name)
    _run("coordatt.eval.cli")
