"""ONNX: one self-contained ``.onnx`` (no external-data sidecar), static shape, opset 18,
input ``image``, output ``logits``, checked by ``onnx.checker``; run with ONNX Runtime's CPU EP."""

from __future__ import annotations

import os

import torch
from torch import nn

from ..errors import require

__all__ = ["export_onnx", "run_onnx", "ort_session", "OPSET"]

OPSET = 18


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


def ort_session(path: str | os.PathLike, threads: int = 0, profile_prefix: str | None = None):
    """An ONNX Runtime CPU session: ``threads`` intra-op threads (0: ORT's default), one
    inter-op thread, ORT's own logging off; its profiler on when ``profile_prefix`` is given."""
    ort = require("onnxruntime", "onnx")
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    if profile_prefix is not None:
        options.enable_profiling = True
        options.profile_file_prefix = profile_prefix
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def run_onnx(
    path: str | os.PathLike, inputs: list[torch.Tensor], threads: int = 0
) -> list[torch.Tensor]:
    """Run a ``.onnx`` in ONNX Runtime (CPU EP) on each input; returns the outputs."""
    session = ort_session(path, threads)
    return [torch.from_numpy(session.run(["logits"], {"image": x.numpy()})[0]) for x in inputs]
