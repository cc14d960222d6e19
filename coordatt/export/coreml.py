"""Core ML: an ``.mlpackage`` ML program (iOS 16 by default), fp16 or fp32 compute precision,
named input ``image`` and output ``logits``, with model metadata.

Prediction needs macOS (Core ML itself); on other systems the converted program is checked by its
spec: operator list, input/output names and shapes.
"""

from __future__ import annotations

import os
import platform

import torch
from torch import nn

from ..errors import require

__all__ = ["export_coreml", "inspect_mlpackage", "run_coreml", "PRECISIONS", "can_predict"]

PRECISIONS = ("fp16", "fp32")


def export_coreml(
    model: nn.Module,
    example: torch.Tensor,
    path: str | os.PathLike,
    *,
    precision: str = "fp16",
    metadata: dict[str, str],
    descriptions: dict[str, str],
) -> dict:
    """Convert an eval-mode model and save the ``.mlpackage`` at ``path``; returns a report."""
    if precision not in PRECISIONS:
        raise ValueError(f"unknown Core ML precision {precision!r}; choose from fp16, fp32")
    ct = require("coremltools", "coreml")
    program = torch.export.export(model, (example,), strict=True).run_decompositions({})
    mlmodel = ct.convert(
        program,
        convert_to="mlprogram",
        minimum_deployment_target=ct.target.iOS16,
        compute_precision=ct.precision.FLOAT16 if precision == "fp16" else ct.precision.FLOAT32,
        inputs=[ct.TensorType(name="image", shape=tuple(example.shape))],
        outputs=[ct.TensorType(name="logits")],
    )
    mlmodel.short_description = descriptions["model"]
    mlmodel.author = metadata.get("author", "")
    mlmodel.license = metadata.get("license", "")
    mlmodel.version = metadata.get("version", "")
    mlmodel.input_description["image"] = descriptions["image"]
    mlmodel.output_description["logits"] = descriptions["logits"]
    mlmodel.user_defined_metadata.update({k: str(v) for k, v in metadata.items()})
    mlmodel.save(str(path))
    return inspect_mlpackage(path)


def _shape(feature) -> list[int]:
    return [int(d) for d in feature.type.multiArrayType.shape]


def inspect_mlpackage(path: str | os.PathLike) -> dict:
    """Operators, inputs/outputs with shapes, and metadata of a saved ``.mlpackage``; works on
    any OS (the model is not loaded for prediction)."""
    ct = require("coremltools", "coreml")
    spec = ct.models.MLModel(str(path), skip_model_load=True).get_spec()
    ops: dict[str, int] = {}
    for function in spec.mlProgram.functions.values():
        for block in function.block_specializations.values():
            for op in block.operations:
                ops[op.type] = ops.get(op.type, 0) + 1
    return {
        "spec_version": spec.specificationVersion,
        "inputs": {f.name: _shape(f) for f in spec.description.input},
        "outputs": {f.name: _shape(f) for f in spec.description.output},
        "op_counts": dict(sorted(ops.items())),
        "ops": sum(ops.values()),
        "metadata": dict(spec.description.metadata.userDefined),
        "short_description": spec.description.metadata.shortDescription,
    }


def can_predict() -> bool:
    """Core ML prediction is only possible on macOS."""
    return platform.system() == "Darwin"


def run_coreml(path: str | os.PathLike, inputs: list[torch.Tensor]) -> list[torch.Tensor]:
    """Predict with Core ML on each input (macOS only)."""
    ct = require("coremltools", "coreml")
    model = ct.models.MLModel(str(path), compute_units=ct.ComputeUnit.CPU_ONLY)
    return [torch.from_numpy(model.predict({"image": x.numpy()})["logits"]) for x in inputs]
