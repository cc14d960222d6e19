"""Runtimes behind one small interface: load an artifact (or the eager model), run it on an input.

Each runner sets its own thread count: ``torch.set_num_threads`` (eager), ORT's
``intra_op_num_threads`` with ``inter_op_num_threads = 1``, ExecuTorch's threadpool size.
Heavy backends are imported inside the runner that needs them.
"""

from __future__ import annotations

import platform
from pathlib import Path

import numpy as np

from ..errors import require

__all__ = ["RUNTIMES", "DEFAULT_RUNTIMES", "RUNTIME_ARTIFACT", "Runner", "make_runner",
           "unavailable_reason"]

RUNTIMES = ("eager", "onnxruntime", "executorch-xnnpack", "executorch-xnnpack-int8",
            "executorch-portable", "coreml")
DEFAULT_RUNTIMES = tuple(r for r in RUNTIMES if r != "executorch-portable")  # ~100x slower
# runtime -> (format, backend, quantize, precision) of the artifact it runs
RUNTIME_ARTIFACT = {
    "onnxruntime": ("onnx", "onnx", "none", "fp32"),
    "executorch-xnnpack": ("pte", "xnnpack", "none", "fp32"),
    "executorch-xnnpack-int8": ("pte", "xnnpack", "int8", "int8"),
    "executorch-portable": ("pte", "portable", "none", "fp32"),
    "coreml": ("coreml", "mlprogram", "none", "fp16"),
}


def unavailable_reason(runtime: str) -> str | None:
    """Why a runtime cannot run on this machine, or None."""
    if runtime == "coreml" and platform.system() != "Darwin":
        return "skipped: Core ML runs on macOS only"
    return None


class Runner:
    """``prepare`` (imports, not timed), ``load`` once (timed as load_ms), then ``run`` a float32
    [1, 3, H, W] array and return the logits."""

    runtime = "eager"

    def __init__(self, threads: int) -> None:
        self.threads = threads

    def prepare(self) -> None:
        """Import the backend: a Python import is not the runtime's load time."""

    def load(self) -> None:
        raise NotImplementedError

    def run(self, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def close(self) -> None:
        pass


class EagerRunner(Runner):
    runtime = "eager"

    def __init__(self, threads: int, model) -> None:
        super().__init__(threads)
        self.model = model

    def load(self) -> None:
        import torch

        torch.set_num_threads(self.threads)
        self.model.eval()

    def run(self, x: np.ndarray) -> np.ndarray:
        import torch

        with torch.inference_mode():
            return self.model(torch.from_numpy(x)).numpy()


class OrtRunner(Runner):
    runtime = "onnxruntime"

    def __init__(self, threads: int, path: Path) -> None:
        super().__init__(threads)
        self.path = path

    def prepare(self) -> None:
        require("onnxruntime", "onnx")

    def load(self) -> None:
        from ..export.onnx import ort_session

        self.session = ort_session(self.path, self.threads)

    def run(self, x: np.ndarray) -> np.ndarray:
        return self.session.run(["logits"], {"image": x})[0]

    def close(self) -> None:
        self.session = None


class ExecuTorchRunner(Runner):
    def __init__(self, threads: int, path: Path, runtime: str) -> None:
        super().__init__(threads)
        self.path = path
        self.runtime = runtime

    def prepare(self) -> None:
        import torch

        self._torch = torch
        self.et_runtime = require("executorch.runtime", "executorch").Runtime.get()
        from executorch.extension.pybindings import portable_lib

        portable_lib._unsafe_reset_threadpool(self.threads)

    def load(self) -> None:
        self.method = self.et_runtime.load_program(str(self.path)).load_method("forward")

    def run(self, x: np.ndarray) -> np.ndarray:
        return self.method.execute([self._torch.from_numpy(x)])[0].numpy()

    def close(self) -> None:
        self.method = None


class CoreMLRunner(Runner):
    runtime = "coreml"

    def __init__(self, threads: int, path: Path) -> None:
        super().__init__(threads)
        self.path = path

    def prepare(self) -> None:
        self.ct = require("coremltools", "coreml")

    def load(self) -> None:
        ct = self.ct
        self.model = ct.models.MLModel(str(self.path), compute_units=ct.ComputeUnit.CPU_ONLY)

    def run(self, x: np.ndarray) -> np.ndarray:
        return self.model.predict({"image": x})["logits"]


def make_runner(runtime: str, threads: int, *, artifact: Path | None = None,
                model=None) -> Runner:
    if runtime == "eager":
        return EagerRunner(threads, model)
    if runtime == "onnxruntime":
        return OrtRunner(threads, artifact)
    if runtime.startswith("executorch-"):
        return ExecuTorchRunner(threads, artifact, runtime)
    if runtime == "coreml":
        return CoreMLRunner(threads, artifact)
    raise ValueError(f"unknown runtime {runtime!r}; choose from {', '.join(RUNTIMES)}")
