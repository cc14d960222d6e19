"""LiteRT (TensorFlow Lite): a ``.tflite`` in ai-edge-litert's interpreter, XNNPACK delegate on.

``threads`` is the interpreter's ``num_threads`` (None: LiteRT's default). A model with int8
input or output tensors (a fully quantized graph) gets its float input quantized and its output
dequantized with the tensors' own scale and zero point, so every runtime takes and returns
float32.
"""

from __future__ import annotations

import numpy as np

from ..errors import require
from .base import Session

__all__ = ["LiteRTSession", "interpreter"]


def interpreter(path, threads: int | None = None):
    """A LiteRT interpreter on ``path`` with its tensors allocated."""
    module = require("ai_edge_litert.interpreter", "litert")
    kwargs = {} if threads is None else {"num_threads": int(threads)}
    it = module.Interpreter(model_path=str(path), **kwargs)
    it.allocate_tensors()
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
