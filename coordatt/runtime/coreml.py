"""Core ML: an ``.mlpackage`` on the CPU compute unit (prediction needs macOS)."""

from __future__ import annotations

import platform

import numpy as np

from ..errors import require
from .base import Session


def can_predict() -> bool:
    """Core ML prediction is only possible on macOS."""
    return platform.system() == "Darwin"


class CoreMLSession(Session):
    def prepare(self) -> None:
        self._ct = require("coremltools", "coreml")

    def load(self) -> None:
        ct = self._ct
        self.mlmodel = ct.models.MLModel(str(self.path), compute_units=ct.ComputeUnit.CPU_ONLY)
        spec = self.mlmodel.get_spec().description
        self._input = spec.input[0].name
        self._output = spec.output[0].name

    def run(self, x: np.ndarray) -> np.ndarray:
        return np.asarray(self.mlmodel.predict({self._input: x})[self._output], np.float32)

    def close(self) -> None:
        self.mlmodel = None
