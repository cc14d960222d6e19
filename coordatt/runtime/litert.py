"""LiteRT (TensorFlow Lite): a ``.tflite`` in ai-edge-litert's interpreter, XNNPACK delegate on.

Threads: ``threads`` is the interpreter's ``num_threads``, which the Python wrapper hands to
``InterpreterBuilder``; the builder creates LiteRT's default XNNPACK delegate with that thread
count (checked: a 2-thread interpreter starts one worker thread, a 1-thread one none).
``Interpreter.SetNumThreads`` after the build would not reach the delegate, so the count is only
ever set here, at load. None is the wrapper's default: 1 thread (it passes ``num_threads or 1``).

A model with int8 input or output tensors gets its float input quantized and its output
dequantized with the tensors' own scale and zero point, so every runtime takes and returns
float32 (coordatt's own int8 ``.tflite`` files have float32 I/O already; see export/litert.py).

No per-operator profile: the Python interpreter has no profiler API.
"""

from __future__ import annotations

import os

import numpy as np

from ..errors import require
from .base import Session

__all__ = ["LiteRTSession", "interpreter", "PROFILER_HINT"]

PROFILER_HINT = ("LiteRT's Python interpreter has no per-operator profiler; use LiteRT's C++ "
                 "benchmark_model --graph=<model.tflite> --enable_op_profiling=true")


def interpreter(source: str | os.PathLike | bytes, threads: int | None = None):
    """A LiteRT interpreter on ``source`` (a path, or the model's bytes) with its tensors
    allocated, i.e. with the XNNPACK delegate applied. A file LiteRT cannot load (not a
    flatbuffer, truncated, inconsistent) is a one-line ValueError naming it."""
    module = require("ai_edge_litert.interpreter", "litert")
    kwargs = {} if threads is None else {"num_threads": int(threads)}
    if isinstance(source, bytes | bytearray):
        kwargs["model_content"] = bytes(source)
        name = "the model"
    else:
        kwargs["model_path"] = str(source)
        name = str(source)
    try:
        it = module.Interpreter(**kwargs)
        it.allocate_tensors()
    except (ValueError, RuntimeError) as e:
        reason = " ".join(str(e).split()).rstrip(" |") or type(e).__name__
        raise ValueError(f"LiteRT cannot load {name}: {reason}") from e
    return it


def _quantize(x: np.ndarray, detail: dict) -> np.ndarray:
    dtype = detail["dtype"]
    if np.issubdtype(dtype, np.floating):
        return x.astype(dtype, copy=False)
    scale, zero = detail["quantization"]
    info = np.iinfo(dtype)
    return np.clip(np.round(x / scale) + zero, info.min, info.max).astype(dtype)


def _dequantize(y: np.ndarray, detail: dict) -> np.ndarray:
    if np.issubdtype(y.dtype, np.floating):
        return y.astype(np.float32, copy=False)
    scale, zero = detail["quantization"]
    return ((y.astype(np.float32) - zero) * scale).astype(np.float32)


class LiteRTSession(Session):
    def prepare(self) -> None:
        require("ai_edge_litert.interpreter", "litert")

    def load(self) -> None:
        self.it = interpreter(self.path, self.threads)
        self._in = self.it.get_input_details()[0]
        self._out = self.it.get_output_details()[0]

    def run(self, x: np.ndarray) -> np.ndarray:
        self.it.set_tensor(self._in["index"], _quantize(x, self._in))
        self.it.invoke()
        return _dequantize(self.it.get_tensor(self._out["index"]), self._out)

    def close(self) -> None:
        self.it = None

    def profile(self, x: np.ndarray, n: int) -> list[dict]:
        # Interpreter has no profiler hook (its experimental_force_delegate_node_profiling only
        # feeds a C++ profiler that Python cannot attach), nor does CompiledModel
        raise NotImplementedError(PROFILER_HINT)
