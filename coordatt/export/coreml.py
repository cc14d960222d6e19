"""Core ML: an ``.mlpackage`` ML program (iOS 16 by default), fp16 or fp32 compute precision,
named input ``image`` and output ``logits``, with model metadata.

Prediction needs macOS (Core ML itself); on other systems the converted program is checked by its
spec: operator list, input/output names and shapes.
"""

from __future__ import annotations

import os
from pathlib import Path

import torch
from torch import nn

from .._quiet import quiet
from ..errors import require
from ..runtime.coreml import can_predict
from . import verify
from .progress import step

__all__ = ["export_coreml", "inspect_mlpackage", "run_coreml", "produce", "PRECISIONS",
           "can_predict"]

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


def run_coreml(path: str | os.PathLike, inputs: list[torch.Tensor]) -> list[torch.Tensor]:
    """Predict with Core ML on each input (macOS only)."""
    from ..runtime import run_artifact

    return run_artifact("coreml", path, inputs)


def produce(target, tmp: Path, info, example, config, inputs, reference, *, verbose: bool,
            progress: bool) -> tuple[dict, dict]:
    """Convert ``info``'s model to an ``.mlpackage`` at ``tmp``; check its spec on any OS and its
    numbers in Core ML on macOS."""
    from .. import __version__

    h, w = info.input_size
    k = info.num_classes
    width = "" if info.width_mult is None else f" {info.width_mult}x"
    descriptions = {
        "model": f"{info.name}{width} image classifier, {k} classes ({info.labels_source} "
                 f"labels), exported by coordatt",
        "image": f"float32 [1, 3, {h}, {w}] RGB, scaled to [0, 1] and normalised with "
                 f"mean {info.preprocess['mean']}, std {info.preprocess['std']} (see the .json "
                 f"sidecar)",
        "logits": f"float32 [1, {k}] logits (no softmax); class names in the .json sidecar",
    }
    metadata = {"author": "coordatt", "license": "MIT (code); weights: see their source",
                "version": __version__, "model": info.spec, "name": info.name,
                "width_mult": str(info.width_mult)}
    with step(f"converting to Core ML ({target.precision})", enabled=progress), quiet(verbose):
        report = export_coreml(info.model, example, tmp, precision=target.precision,
                               metadata=metadata, descriptions=descriptions)
    # the structure every conversion must have, checked on any OS
    n_convs = sum(isinstance(m, nn.Conv2d) for m in info.model.modules())
    problems = []
    if report["inputs"] != {"image": [1, 3, h, w]}:
        problems.append(f"inputs {report['inputs']}")
    if report["outputs"] != {"logits": [1, k]}:
        problems.append(f"outputs {report['outputs']}")
    if report["op_counts"].get("conv") != n_convs:
        problems.append(f"{report['op_counts'].get('conv')} conv ops for {n_convs} convolutions")
    spec = {"inputs": report["inputs"], "outputs": report["outputs"], "conv_ops": n_convs}
    if problems:
        return report, {"status": "failed", "runtime": "coreml-spec", **spec,
                        "message": "spec check: " + "; ".join(problems)}
    if not inputs:
        return report, {"status": "skipped", "message": "--no-verify"}
    if not can_predict():
        return report, {"status": "spec-only", "runtime": "coreml-spec", **spec,
                        "message": "spec checked (ops, names, shapes); numeric check needs macOS"}
    with step("verifying in Core ML", enabled=progress), quiet(verbose):
        outputs = run_coreml(tmp, inputs)
    tol = verify.FP16_REL_TOL if target.precision == "fp16" else verify.FP32_REL_TOL
    return report, {"runtime": "coreml", **verify.check_fp32(reference, outputs, tol)}
