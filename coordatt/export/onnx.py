"""ONNX: one self-contained ``.onnx`` (no external-data sidecar), static shape, opset 18,
input ``image``, output ``logits``, checked by ``onnx.checker``; run with ONNX Runtime's CPU EP.

The int8 ``.onnx`` is quantized from an fp32 export holding CoordAtt in the formulation measured
fastest in ONNX Runtime's int8 kernels (``INT8_CA_FORMULATION``, coordatt.ca_variants: the same
function to float rounding; the model and its checkpoint are untouched): each directional mean as
depthwise convolutions with constant kernels, which ORT quantizes into QLinearConv, and the two
directions encoded apart. The fp32 ``.onnx`` keeps the model's formulation (formulations moved ORT
fp32 by -2% to +3%, within noise). Measured in benchmarks/ca_cost_levers.md.
"""

from __future__ import annotations

import os
from pathlib import Path

import torch
from torch import nn

from .._quiet import quiet
from ..errors import require
from . import verify
from .progress import step

__all__ = ["export_onnx", "run_onnx", "produce", "OPSET"]

OPSET = 18
# ORT int8 CPU EP, 1 thread, MobileNetV2-CA 1.0x/224, thread-CPU-time medians of two
# interleaved runs: 8.39 -> 6.73 ms (-20%), 7.47 -> 6.26 ms (-16%); int8 agreement with fp32 on
# the trained test network 99.5% -> 96.0% (SQNR 25.0 -> 24.3 dB): benchmarks/ca_cost_levers.md
INT8_CA_FORMULATION = {"pool": "dwconv", "encode": "apart"}


def export_onnx(
    model: nn.Module, example: torch.Tensor, metadata: dict[str, str]
) -> tuple[bytes, dict]:
    """Export an eval-mode model with the dynamo exporter; returns the file's bytes and a report
    (opset, node count, operator types)."""
    onnx = require("onnx", "onnx")
    require("onnxscript", "onnx")
    program = torch.onnx.export(
        model, (example,), dynamo=True, opset_version=OPSET, external_data=False,
        input_names=["image"], output_names=["logits"], optimize=True, verbose=False,
    )
    proto = program.model_proto
    del proto.metadata_props[:]
    for key, value in sorted(metadata.items()):
        entry = proto.metadata_props.add()
        entry.key, entry.value = key, str(value)
    onnx.checker.check_model(proto, full_check=True)
    ops = sorted({node.op_type for node in proto.graph.node})
    report = {"opset": OPSET, "nodes": len(proto.graph.node), "op_types": ops}
    return proto.SerializeToString(deterministic=True), report


def run_onnx(path: str | os.PathLike, inputs: list[torch.Tensor],
             threads: int | None = None) -> list[torch.Tensor]:
    """Run a ``.onnx`` in ONNX Runtime (CPU EP) on each input; returns the outputs."""
    from ..runtime import run_artifact

    return run_artifact("onnxruntime", path, inputs, threads=threads)


def produce(target, tmp: Path, info, example, config, inputs, reference, *, verbose: bool,
            progress: bool) -> tuple[dict, dict]:
    """Export ``info``'s model to ``tmp`` (int8: quantized by ONNX Runtime, onnx_int8.py);
    verify it in ONNX Runtime."""
    metadata = {"model": info.spec, "name": info.name, "width_mult": str(info.width_mult),
                "num_classes": str(info.num_classes), "producer": "coordatt-export",
                "preprocess": "see the .json sidecar"}
    model = info.model
    if target.precision == "int8":
        from ..ca_variants import with_ca_variant

        model = with_ca_variant(info.model, example, **INT8_CA_FORMULATION)
    with step("exporting to ONNX (dynamo, opset 18)", enabled=progress), quiet(verbose):
        data, report = export_onnx(model, example, metadata)
    if model is not info.model:
        report["ca_formulation"] = dict(INT8_CA_FORMULATION)
    if target.precision == "int8":
        from .onnx_int8 import produce_int8

        return produce_int8(data, report, target, tmp, info, config, inputs, reference,
                            verbose=verbose, progress=progress)
    tmp.write_bytes(data)
    if not inputs:
        return report, {"status": "skipped", "message": "--no-verify"}
    with step("verifying in ONNX Runtime (CPU)", enabled=progress), quiet(verbose):
        outputs = run_onnx(tmp, inputs)
    return report, {"runtime": "onnxruntime", **verify.check_fp32(reference, outputs)}
