"""One runtime layer: load an artifact (or the eager model) with a thread count, run it, close.

Export verification, the bench workers and evaluation all run models through here; each runtime
is one module (``eager``, ``executorch``, ``onnxruntime``, ``litert``, ``coreml``) behind
:class:`~coordatt.runtime.base.Session`, its backend imported only when used.

    >>> from coordatt.runtime import open_session
    >>> with open_session("litert", "m.tflite", threads=1) as s:
    ...     logits = s.run(x)  # float32 [1, 3, H, W] -> [1, K]
"""

from __future__ import annotations

import importlib
import platform
from dataclasses import dataclass
from pathlib import Path

from .base import Session

__all__ = ["RuntimeSpec", "RUNTIMES", "NAMES", "DEFAULT_RUNTIMES", "Session", "get",
           "open_session", "run_artifact", "runtime_for", "unavailable_reason"]


@dataclass(frozen=True)
class RuntimeSpec:
    """A runtime and the artifact it runs (format/backend/quantize/precision as in sidecars)."""

    name: str
    session: str  # "module:Class" under coordatt.runtime
    format: str | None  # None: eager PyTorch, no artifact
    backend: str | None
    quantize: str
    precision: str
    extra: str | None  # the pip extra that installs it


RUNTIMES: dict[str, RuntimeSpec] = {s.name: s for s in (
    RuntimeSpec("eager", "eager:EagerSession", None, None, "none", "fp32", None),
    RuntimeSpec("executorch-xnnpack", "executorch:ExecuTorchSession", "pte", "xnnpack", "none",
                "fp32", "executorch"),
    RuntimeSpec("executorch-xnnpack-int8", "executorch:ExecuTorchSession", "pte", "xnnpack",
                "int8", "int8", "executorch"),
    RuntimeSpec("executorch-portable", "executorch:ExecuTorchSession", "pte", "portable", "none",
                "fp32", "executorch"),
    RuntimeSpec("onnxruntime", "onnxruntime:OnnxRuntimeSession", "onnx", "onnx", "none", "fp32",
                "onnx"),
    RuntimeSpec("onnxruntime-int8", "onnxruntime:OnnxRuntimeSession", "onnx", "onnx", "int8",
                "int8", "onnx"),
    # the same .onnx on ONNX Runtime's XNNPACK execution provider (the Android app's second
    # ORT row; XNNPACK is the kernel library ExecuTorch uses, so a like-for-like comparison)
    RuntimeSpec("onnxruntime-xnnpack", "onnxruntime:OnnxRuntimeSession", "onnx", "onnx",
                "none", "fp32", "onnx"),
    RuntimeSpec("onnxruntime-xnnpack-int8", "onnxruntime:OnnxRuntimeSession", "onnx", "onnx",
                "int8", "int8", "onnx"),
    RuntimeSpec("litert", "litert:LiteRTSession", "tflite", "litert", "none", "fp32", "litert"),
    RuntimeSpec("litert-int8", "litert:LiteRTSession", "tflite", "litert", "int8", "int8",
                "litert"),
    RuntimeSpec("coreml", "coreml:CoreMLSession", "coreml", "mlprogram", "none", "fp16",
                "coreml"),
)}
NAMES = tuple(RUNTIMES)
# executorch-portable is a debugging reference, ~100x slower: asked for by name only; ONNX
# Runtime's XNNPACK provider is not in the PyPI wheel: by name only (a phone runs it by default)
BY_NAME_ONLY = ("executorch-portable", "onnxruntime-xnnpack", "onnxruntime-xnnpack-int8")
DEFAULT_RUNTIMES = tuple(n for n in NAMES if n not in BY_NAME_ONLY)


def get(name: str) -> RuntimeSpec:
    """The runtime called ``name``; ValueError naming the choices otherwise."""
    try:
        return RUNTIMES[name]
    except (KeyError, TypeError):
        raise ValueError(f"unknown runtime {name!r}; choose from {', '.join(NAMES)}") from None


def runtime_for(fmt: str | None, backend: str | None, precision: str | None) -> str | None:
    """The runtime that runs an artifact of this format, backend and precision (a Core ML
    package of either precision runs in ``coreml``), or None."""
    for spec in RUNTIMES.values():
        if spec.format is None:
            continue
        if (fmt, backend, precision) == (spec.format, spec.backend, spec.precision) or \
                (spec.format == "coreml" and fmt == "coreml"):
            return spec.name
    return None


def unavailable_reason(name: str) -> str | None:
    """Why a runtime cannot run on this machine, or None."""
    if name == "coreml" and platform.system() != "Darwin":
        return "skipped: Core ML runs on macOS only"
    if name.startswith("onnxruntime-xnnpack"):
        try:
            import onnxruntime
        except ImportError:
            return None  # opening the session says how to install it
        if "XnnpackExecutionProvider" not in onnxruntime.get_available_providers():
            return ("skipped: this ONNX Runtime has no XnnpackExecutionProvider (the PyPI "
                    "wheel lacks it; the Android app's onnxruntime-android has it)")
    return None


def open_session(name: str, artifact: str | Path | None = None, *, threads: int | None = None,
                 model=None) -> Session:
    """A session of runtime ``name`` on ``artifact`` (or ``model`` for eager), not yet loaded:
    call ``prepare()`` and ``load()``, or use it as a context manager."""
    spec = get(name)
    if spec.format is None and model is None:
        raise ValueError("the eager runtime runs a model, not an artifact")
    if spec.format is not None and artifact is None:
        raise ValueError(f"{name} runs an artifact: give its path")
    if threads is not None and (isinstance(threads, bool) or int(threads) < 1):
        raise ValueError(f"threads must be a positive integer or None, got {threads!r}")
    module, cls = spec.session.split(":")
    session_class = getattr(importlib.import_module(f"{__name__}.{module}"), cls)
    return session_class(name, threads, None if artifact is None else Path(artifact), model)


def run_artifact(name: str, artifact: str | Path, inputs, *, threads: int | None = None) -> list:
    """Run ``artifact`` in runtime ``name`` on each [1, 3, H, W] input (torch tensors or numpy
    arrays); returns the outputs as torch tensors."""
    import numpy as np
    import torch

    with open_session(name, artifact, threads=threads) as session:
        return [torch.from_numpy(np.array(session.run(
            np.ascontiguousarray(x.detach().numpy() if hasattr(x, "detach") else x,
                                 dtype=np.float32))))
            for x in inputs]
