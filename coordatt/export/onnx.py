"""ONNX: one self-contained ``.onnx`` (no external-data sidecar), static shape, opset 18,
input ``image``, output ``logits``, checked by ``onnx.checker``; run with ONNX Runtime's CPU EP.

Both hold CoordAtt in the formulation measured fastest in ONNX Runtime's CPU EP
(coordatt.ca_variants: the same function to float rounding; the model and its checkpoint are
untouched):

- fp32 (``FP32_CA_FORMULATION``): the two directions encoded apart, which drops the concat, the
  transposes and the split (and their NCHWc reorders) around CA's small ops; the gates upsampled
  to H x W before the multiplies, which keeps them in ORT's NCHWc layout (its NCHWc Mul takes
  same-shape inputs only; a broadcast one reorders x to NCHW and the product back).
- int8 (``INT8_CA_FORMULATION``): each directional mean as depthwise convolutions with constant
  kernels, which ORT quantizes into QLinearConv; the directions encoded apart; h-swish written as
  ``t * relu6(t + 3)`` (the ``/ 6`` in the gate convolutions), which quantizes into QLinearAdd
  (the relu6 folded into its output range) and QLinearMul: ORT has no QLinear HardSigmoid, so
  ``HardSwish`` stayed a float HardSigmoid between DequantizeLinear/QuantizeLinear.

Measured in benchmarks/ca_cost_levers.md and benchmarks/ca_levers/onnxruntime.md.
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

__all__ = ["export_onnx", "run_onnx", "produce", "OPSET", "FP32_CA_FORMULATION",
           "INT8_CA_FORMULATION"]

OPSET = 18
# ORT CPU EP, 1 thread, MobileNetV2-CA 1.0x/224, thread-CPU-time medians of interleaved runs
# (benchmarks/ca_levers/onnxruntime.md). fp32, encoded apart: 12.12 -> 11.56 ms (-4.6%), 11.56 ->
# 11.39 (-1.5%), 11.30 -> 10.98 (-2.8%), and -2.0% earlier (benchmarks/ca_cost_levers.md);
# depthwise-conv pooling, gate order or relu6 on top: no gain or slower; gates upsampled on top:
# -4.7 to -10.0% against encoded apart in five runs (reorders 85 -> 45).
FP32_CA_FORMULATION = {"encode": "apart", "gate": "upsampled"}
# int8: pooling as depthwise convs, encoded apart: 8.39 -> 6.73 ms (-20%), 7.47 -> 6.26 (-16%)
# (benchmarks/ca_cost_levers.md); h-swish as t * relu6(t + 3) on top: 6.78 -> 6.78 (-0.1%),
# 6.49 -> 6.19 (-4.6%), 6.49 -> 6.30 (-2.9%), 6.75 -> 6.51 (-3.4%); int8 agreement with fp32 on
# the trained test network 99.5% (as written) -> 96.0%, SQNR 25.0 -> 24.2 dB.
INT8_CA_FORMULATION = {"pool": "dwconv", "encode": "apart", "act": "relu6"}


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
    from ..ca_variants import for_export

    model, formulation = for_export(info.model, example, INT8_CA_FORMULATION
                                    if target.precision == "int8" else FP32_CA_FORMULATION)
    with step("exporting to ONNX (dynamo, opset 18)", enabled=progress), quiet(verbose):
        data, report = export_onnx(model, example, metadata)
    if formulation is not None:  # it holds CoordAtt: the rewritten copy was exported
        report["ca_formulation"] = formulation
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
