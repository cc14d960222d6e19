"""One process per runtime and thread count, driven block by block by the harness.

Runtimes live in their own processes so that none disturbs another (ONNX Runtime's worker
threads keep spinning after a run and slowed ExecuTorch in the same process), and so that the
peak RSS of each is its own. The protocol over a Pipe:

    -> ("start", warmup)           <- ("ready", load_ms, output) | ("error", message)
    -> ("block", n)                <- ("samples", [ms, ...], peak_rss_mb) | ("error", message)
    -> ("profile", n)              <- ("profile", rows) | ("error", message)
    -> ("close",)
"""

from __future__ import annotations

import multiprocessing
import resource
import signal
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = ["WorkerSpec", "Worker", "BLOCK_PAUSE_S"]

BLOCK_PAUSE_S = 0.05


@dataclass(frozen=True)
class WorkerSpec:
    runtime: str
    threads: int
    artifact: Path | None  # None for eager
    model: object  # the eval-mode nn.Module for eager (pickled to the process), else None
    input: np.ndarray
    verbose: bool = False


def _peak_rss_mb() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 1024  # bytes vs KiB


def _one_line(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    return f"{type(e).__name__}: {text[0] if text else ''}"[:300]


def _serve(conn, spec: WorkerSpec) -> None:
    from .._quiet import quiet
    from ..runtime import open_session

    with quiet(spec.verbose):
        runner = open_session(spec.runtime, spec.artifact, threads=spec.threads,
                              model=spec.model)
    x = spec.input
    while True:
        message = conn.recv()
        try:
            if message[0] == "start":
                with quiet(spec.verbose):  # runtimes print on load (cpuinfo lines)
                    runner.prepare()
                    start = time.perf_counter_ns()
                    runner.load()
                    load_ms = (time.perf_counter_ns() - start) / 1e6
                    output = runner.run(x)
                for _ in range(message[1]):
                    runner.run(x)
                conn.send(("ready", load_ms, np.asarray(output)))
            elif message[0] == "block":
                # let the previous runtime's worker threads go idle (ONNX Runtime's spin on
                # after a run and took both cores from the next runtime's first runs)
                time.sleep(BLOCK_PAUSE_S)
                runner.run(x)  # one untimed run: caches are cold after the other runtimes
                samples = []
                for _ in range(message[1]):
                    start = time.perf_counter_ns()
                    runner.run(x)
                    samples.append((time.perf_counter_ns() - start) / 1e6)
                conn.send(("samples", samples, _peak_rss_mb()))
            elif message[0] == "profile":
                with quiet(spec.verbose):
                    rows = runner.profile(x, message[1])
                conn.send(("profile", rows))
            else:
                runner.close()
                return
        except Exception as e:  # a runtime failing is a row's error, reported to the harness
            conn.send(("error", _one_line(e)))


def _main(conn, spec: WorkerSpec) -> None:
    try:
        _serve(conn, spec)
    except KeyboardInterrupt:
        pass
    except Exception as e:
        try:
            conn.send(("error", _one_line(e)))
        except OSError:
            pass


class Worker:
    """The harness's handle on one runtime's process."""

    def __init__(self, spec: WorkerSpec, timeout_s: float = 600.0) -> None:
        ctx = multiprocessing.get_context("spawn")
        self.spec = spec
        self.timeout_s = timeout_s
        self.conn, child = ctx.Pipe()
        self.process = ctx.Process(target=_main, args=(child, spec), daemon=True)
        # The child starts with SIGINT blocked (a signal mask survives fork and exec): Ctrl-C in
        # the terminal reaches the whole group, and would print the child's traceback from the
        # middle of its imports. The harness ends it with "close", or kill. A Ctrl-C meant for
        # us meanwhile stays pending, and is raised here once unblocked.
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        try:
            self.process.start()
        finally:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
        child.close()

    def ask(self, *message):
        """Send a request and wait for the reply; a dead or silent worker is an error reply."""
        try:
            self.conn.send(message)
            if not self.conn.poll(self.timeout_s):
                return ("error", f"no answer from the {self.spec.runtime} process in "
                                 f"{self.timeout_s:.0f} s")
            return self.conn.recv()
        except (EOFError, OSError, BrokenPipeError):
            code = self.process.exitcode
            return ("error", f"the {self.spec.runtime} process died (exit code {code})")

    def close(self) -> None:
        try:
            self.conn.send(("close",))
        except (OSError, BrokenPipeError):
            pass
        self.process.join(5)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()
        self.conn.close()
