"""Commands started by tests in a process group of their own, which is killed on the way out
whatever happens (an assertion, a timeout, the command's workers outliving it): no test leaves
a process spinning behind it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

# SIG_DFL (unlike a handler) survives exec
_DEFAULT_SIGINT = ("import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); "
                   "os.execv(sys.argv[1], sys.argv[1:])")


@contextmanager
def process_group(args: list[str], *, terminal_sigint: bool = False,
                  **popen) -> Iterator[subprocess.Popen]:
    """``subprocess.Popen(args, **popen)`` as the leader of a new process group; on exit the
    whole group gets SIGKILL (the leader may be gone while its children run on) and the leader
    is reaped. ``terminal_sigint``: SIGINT acts as from a terminal (a test runner started in the
    background ignores it, and children inherit that)."""
    if terminal_sigint:  # through exec, not preexec_fn: no Python code between fork and exec
        args = [sys.executable, "-c", _DEFAULT_SIGINT, *map(str, args)]
    proc = subprocess.Popen(args, start_new_session=True, **popen)
    try:
        yield proc
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass  # the group is empty: every process in it has ended
        try:
            proc.communicate(timeout=30)  # reaps the leader, closes its pipes
        except (subprocess.TimeoutExpired, ValueError):
            proc.wait(30)
