"""Keep third-party import and load noise off the terminal unless asked for (``-v``).

torchao prints "Failed to load ... .so" for CUDA kernels, coremltools logs version notices,
ExecuTorch's C++ runtime prints cpuinfo lines to the process's stderr. None of it is for a user.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import tempfile
import warnings
from collections.abc import Iterator

__all__ = ["quiet"]

_NOISY_LOGGERS = ("coremltools", "torchao", "torch._export", "torch.export", "torch.onnx",
                  "executorch", "onnxscript", "root", "torch.utils._pytree", "absl")


@contextlib.contextmanager
def quiet(verbose: bool = False) -> Iterator[None]:
    """Silence stdout/stderr at the file-descriptor level (C++ prints included), Python warnings
    and the noisy loggers for the duration; a no-op when ``verbose``."""
    if verbose:
        yield
        return
    levels = {name: logging.getLogger(name).level for name in _NOISY_LOGGERS}
    for name in _NOISY_LOGGERS:
        logging.getLogger(name).setLevel(logging.ERROR)
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    with tempfile.TemporaryFile() as sink, warnings.catch_warnings(), \
            open(os.devnull, "w") as devnull, contextlib.redirect_stdout(devnull), \
            contextlib.redirect_stderr(devnull):  # Python-level prints too, when sys.std* are
        warnings.simplefilter("ignore")          # not the fds (pytest's capture, a notebook)
        os.dup2(sink.fileno(), 1)
        os.dup2(sink.fileno(), 2)
        try:
            yield
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])
            for name, level in levels.items():
                logging.getLogger(name).setLevel(level)
