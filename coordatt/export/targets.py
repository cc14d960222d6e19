"""Producing and verifying one artifact (the per-format step of pipeline.py).

Each format's module (``pte``, ``onnx``, ``litert``, ``coreml``) has a ``produce`` with this
signature; it writes the artifact to ``tmp``, runs it in its own runtime through
:mod:`coordatt.runtime` and judges it with :mod:`coordatt.export.verify`.
"""

from __future__ import annotations

import importlib
from pathlib import Path

import torch

__all__ = ["produce", "MODULES"]

# format -> module of coordatt.export holding its produce(); imported only when used
MODULES = {"pte": "pte", "onnx": "onnx", "tflite": "litert", "coreml": "coreml"}


def produce(target, tmp: Path, info, example: torch.Tensor, config,
            inputs: list[torch.Tensor], reference: list[torch.Tensor], *, verbose: bool,
            progress: bool) -> tuple[dict, dict]:
    """Write ``target``'s artifact of ``info`` (a subject.ModelInfo) to ``tmp`` and verify it;
    returns (report, verification)."""
    module = importlib.import_module(f"{__package__}.{MODULES[target.format]}")
    return module.produce(target, tmp, info, example, config, inputs, reference,
                          verbose=verbose, progress=progress)
