"""LiteRT ``.tflite`` via litert-torch (torch.export -> StableHLO -> TFLite; no TensorFlow).

fp32 keeps PyTorch's NCHW float32 input. int8 is static PT2E with litert-torch's own quantizer
(per-channel symmetric weights, per-tensor activations, calibrated), converted with its
``QuantConfig``; the graph it gives has int8 input and output tensors, which this module wraps
in a QUANTIZE and a DEQUANTIZE (XNNPACK runs both inside its delegate) so that every artifact,
int8 or not, takes and returns float32 as its sidecar says. The report says what LiteRT's
default XNNPACK delegate takes, read from the interpreter after it has applied the delegate.

CoordAtt is rewritten for int8 (``LITERT_INT8_CA_FORMULATION``, coordatt.ca_variants: the same
function to float rounding; the model and its checkpoint are unchanged; the report's
``ca_formulation`` says so): LiteRT's XNNPACK delegate takes no int8 AVERAGE_POOL_2D nor
HARD_SWISH, so as the model writes it the int8 MobileNetV2-CA split into 33 partitions with CA's
32 poolings and 16 h-swish on LiteRT's own kernels. Its means as constant-kernel depthwise
convolutions and its h-swish as ``t * relu6(t + 3)`` (an int8 ADD with a fused RELU6 and a MUL)
make it one partition (MobileNetV2-CA 1.0x/224 and the trained test network), 12-15% faster
(CA overhead +57-61% -> +33-43%, median +40%; thread CPU time, 1 thread,
benchmarks/ca_levers/litert.md). Where
the converter leaves a relu6 apart from its add (a TRANSPOSE between them, seen on a tiny random
network), that int8 RELU6 stays outside XNNPACK. The relu6 form needs ``encode="apart"``: with
the joint encoding litert-torch 0.10 fails to convert the quantized graph. fp32 keeps the
model's own formulation (``LITERT_FP32_CA_FORMULATION`` None): none measured faster beyond noise.
"""

from __future__ import annotations

import re
from collections import Counter
from importlib import metadata
from pathlib import Path

import numpy as np
import torch
from torch import nn

from .._quiet import quiet
from ..errors import ExportError, require
from . import verify
from .progress import step

__all__ = ["convert_tflite", "quantize_int8_litert", "inspect_tflite", "run_tflite", "produce",
           "QUANTIZER", "LITERT_FP32_CA_FORMULATION", "LITERT_INT8_CA_FORMULATION"]

QUANTIZER = "litert-torch PT2E, int8 static, per-channel symmetric weights"
# CoordAtt as written for LiteRT at export time, per precision (coordatt.ca_variants: the same
# function to float rounding; None: as the model writes it); measured in
# benchmarks/ca_levers/litert.md
LITERT_FP32_CA_FORMULATION: dict[str, str] | None = None
LITERT_INT8_CA_FORMULATION: dict[str, str] | None = {
    "pool": "dwconv", "encode": "apart", "act": "relu6"}
_DELEGATE = "DELEGATE"  # the node LiteRT puts in place of the operators a delegate takes


def quantize_int8_litert(model: nn.Module, example: torch.Tensor,
                         calibration: list[torch.Tensor]):
    """PT2E-quantize an eval-mode model with litert-torch's quantizer, calibrated on
    ``calibration``; returns the converted (Q/DQ) module and the quantizer the converter needs."""
    require("litert_torch", "litert")
    from litert_torch.quantize.pt2e_quantizer import (
        PT2EQuantizer,
        get_symmetric_quantization_config,
    )
    from torchao.quantization.pt2e.quantize_pt2e import convert_pt2e, prepare_pt2e

    quantizer = PT2EQuantizer().set_global(
        get_symmetric_quantization_config(is_per_channel=True, is_dynamic=False))
    graph = torch.export.export(model, (example,), strict=True).module()
    prepared = prepare_pt2e(graph, quantizer)
    with torch.no_grad():
        for x in calibration:
            prepared(x)
    # Q/DQ pairs kept unfolded: the converter's STATIC mode turns them into int8 tensors
    return convert_pt2e(prepared, fold_quantize=False), quantizer


def _conversion_error(e: Exception) -> str:
    """The operator a failed conversion names, or the error's first line."""
    text = str(e)
    if found := re.search(r"Lowering not found: (\S+)", text):  # litert_torch/backend/export.py
        return f"no litert-torch lowering for {found.group(1)}"
    first = text.strip().splitlines()[0] if text.strip() else ""
    if found := re.search(r"target=torch\.ops\.([\w.]+)", text):
        return f"{type(e).__name__} at {found.group(1)}: {first}"
    return f"{type(e).__name__}: {first}" if first else type(e).__name__


def _convert(module: nn.Module, example: torch.Tensor, quantizer=None) -> bytes:
    litert_torch = require("litert_torch", "litert")
    kwargs = {}
    if quantizer is not None:
        from litert_torch.quantize.quant_config import QuantConfig

        kwargs["quant_config"] = QuantConfig(pt2e_quantizer=quantizer)
    try:
        data = litert_torch.convert(module, (example,), **kwargs).model_content()
    except Exception as e:
        raise ExportError(f"LiteRT cannot convert the model: {_conversion_error(e)}") from e
    return _float_io(data) if quantizer is not None else data


def convert_tflite(model: nn.Module, example: torch.Tensor, *, quantize: str = "none",
                   calibration: list[torch.Tensor] | None = None) -> bytes:
    """Convert an eval-mode model to a ``.tflite``'s bytes, fp32 (``quantize="none"``) or int8
    calibrated on ``calibration`` ([1, 3, H, W] inputs); float32 input and output either way.
    ExportError naming the operator when LiteRT cannot convert the model."""
    if quantize not in ("none", "int8"):
        raise ValueError(f"unknown quantization {quantize!r}; choose from none, int8")
    if quantize == "none":
        return _convert(model.eval(), example)
    if not calibration:
        raise ValueError("int8 needs calibration inputs ([1, 3, H, W] tensors)")
    module, quantizer = quantize_int8_litert(model.eval(), example, calibration)
    return _convert(module, example, quantizer)


def _float_io(data: bytes) -> bytes:
    """The model with each int8 graph input fed by a QUANTIZE from a float32 tensor and each
    int8 output read through a DEQUANTIZE, as TensorFlow's converter does by default: the
    app and every runtime feed float32 (litert-torch 0.10 has no option for it)."""
    from ai_edge_litert import schema_py_generated as fb
    from ai_edge_litert.tools import flatbuffer_utils

    model = flatbuffer_utils.read_model_from_bytearray(bytearray(data))
    graph = model.subgraphs[0]
    renamed: dict[int, int] = {}

    def opcode(code: int) -> int:
        for i, known in enumerate(model.operatorCodes):
            if max(known.builtinCode, known.deprecatedBuiltinCode) == code \
                    and not known.customCode:
                return i
        entry = fb.OperatorCodeT()
        entry.builtinCode, entry.deprecatedBuiltinCode, entry.version = code, min(code, 127), 1
        model.operatorCodes.append(entry)
        return len(model.operatorCodes) - 1

    def float_twin(index: int) -> int:
        old = graph.tensors[index]
        new = fb.TensorT()
        new.name, new.shape, new.type = old.name, old.shape, fb.TensorType.FLOAT32
        new.shapeSignature, new.hasRank = old.shapeSignature, old.hasRank
        model.buffers.append(fb.BufferT())  # an activation: an empty buffer of its own
        new.buffer = len(model.buffers) - 1
        old.name = old.name + b"_int8"
        graph.tensors.append(new)
        renamed[index] = len(graph.tensors) - 1
        return renamed[index]

    for pos, index in enumerate(list(graph.inputs)):
        if graph.tensors[index].type == fb.TensorType.INT8:
            op = fb.OperatorT()
            op.opcodeIndex = opcode(fb.BuiltinOperator.QUANTIZE)
            op.inputs, op.outputs = [float_twin(index)], [index]
            graph.operators.insert(0, op)
            graph.inputs[pos] = renamed[index]
    for pos, index in enumerate(list(graph.outputs)):
        if graph.tensors[index].type == fb.TensorType.INT8:
            op = fb.OperatorT()
            op.opcodeIndex = opcode(fb.BuiltinOperator.DEQUANTIZE)
            op.inputs, op.outputs = [index], [float_twin(index)]
            graph.operators.append(op)
            graph.outputs[pos] = renamed[index]
    if not renamed:
        return data
    for signature in model.signatureDefs or []:
        for entry in [*(signature.inputs or []), *(signature.outputs or [])]:
            entry.tensorIndex = renamed.get(entry.tensorIndex, entry.tensorIndex)
    return bytes(flatbuffer_utils.convert_object_to_bytearray(model))


def _io(detail: dict) -> dict:
    scale, zero = detail["quantization"]
    return {"name": detail["name"], "shape": [int(d) for d in detail["shape"]],
            "dtype": np.dtype(detail["dtype"]).name,
            "quantization": {"scale": float(scale), "zero_point": int(zero)} if scale else None}


def _delegated(ops: list[dict], n: int) -> set[int]:
    """Indices of the model's operators (nodes 0..n-1) inside a delegate. LiteRT appends one
    DELEGATE node per partition after the model's nodes and keeps the replaced ones listed;
    a partition is what lies behind the DELEGATE node's outputs, back to its inputs."""
    producer = {int(t): op["index"] for op in ops[:n] for t in op["outputs"]}
    inside: set[int] = set()
    for node in ops[n:]:
        boundary = {int(t) for t in node["inputs"]}
        stack = [int(t) for t in node["outputs"]]
        while stack:
            tensor = stack.pop()
            if tensor in boundary or tensor not in producer or producer[tensor] in inside:
                continue
            inside.add(producer[tensor])
            stack += [int(t) for t in ops[producer[tensor]]["inputs"] if t >= 0]
    return inside


def inspect_tflite(model: str | Path | bytes) -> dict:
    """Operators, input/output tensors and the XNNPACK delegate's share of a ``.tflite`` (a path
    or its bytes), as LiteRT's interpreter runs it (default options, 1 thread)."""
    from ai_edge_litert import schema_py_generated as fb

    from ..runtime.litert import interpreter

    data = model if isinstance(model, bytes | bytearray) else Path(model).read_bytes()
    it = interpreter(bytes(data))  # first: a file that is no model fails here, in one line
    root = fb.Model.GetRootAs(data, 0)
    graph = root.Subgraphs(0)
    n = graph.OperatorsLength()
    type_names = {v: k.lower() for k, v in vars(fb.TensorType).items() if isinstance(v, int)}
    constant_bytes: Counter = Counter()
    seen: set[int] = set()
    for i in range(graph.TensorsLength()):
        tensor = graph.Tensors(i)
        if tensor.Buffer() in seen:
            continue
        seen.add(tensor.Buffer())
        buffer = root.Buffers(tensor.Buffer())
        if size := buffer.DataLength() or buffer.Size():  # Size: data stored past the flatbuffer
            constant_bytes[type_names.get(tensor.Type(), str(tensor.Type()))] += size
    ops = it._get_ops_details()  # after allocate_tensors: the delegate nodes are in
    delegate_nodes = [op for op in ops[n:] if op["op_name"] == _DELEGATE]
    inside = _delegated(ops, n)
    outside = [ops[i]["op_name"] for i in range(n) if i not in inside]
    return {
        "ops": n,
        "op_counts": dict(Counter(op["op_name"] for op in ops[:n]).most_common()),
        "input": _io(it.get_input_details()[0]),
        "output": _io(it.get_output_details()[0]),
        "constant_bytes": dict(constant_bytes.most_common()),  # weights (and biases) by dtype
        "delegate": "XNNPACK (LiteRT's default CPU delegate)",
        "delegates": len(delegate_nodes),
        "delegated_ops": len(inside),
        "non_delegated_ops": len(outside),
        "non_delegated_op_names": sorted(set(outside)),
        "non_delegated_op_counts": dict(Counter(outside).most_common()),
    }


def run_tflite(path, inputs: list[torch.Tensor], threads: int | None = None,
               precision: str = "fp32") -> list[torch.Tensor]:
    """Run a ``.tflite`` in LiteRT on each input ([1, 3, H, W]); returns the outputs."""
    from ..runtime import run_artifact

    return run_artifact("litert-int8" if precision == "int8" else "litert", path, inputs,
                        threads=threads)


def _versions() -> dict[str, str]:
    found = {}
    for name in ("litert-torch", "ai-edge-litert"):
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    return found


def produce(target, tmp: Path, info, example, config, inputs, reference, *, verbose: bool,
            progress: bool) -> tuple[dict, dict]:
    """Convert (int8: quantize, then convert) ``info``'s model to ``tmp``; verify it in LiteRT."""
    report: dict = {"converter": _versions()}
    from ..ca_variants import for_export

    model, formulation = for_export(info.model, example, LITERT_INT8_CA_FORMULATION
                                    if target.precision == "int8" else LITERT_FP32_CA_FORMULATION)
    if formulation is not None:  # it holds CoordAtt: export the rewritten copy
        report["ca_formulation"] = formulation
    quantized_reference = None
    if target.precision == "int8":
        from .quantize import calibration_inputs

        calibration, source = calibration_inputs(config.calibration_dir, info.preprocess)
        report["calibration"] = source
        report["quantizer"] = QUANTIZER
        with step(f"quantizing to int8 (litert-torch PT2E, {source})", enabled=progress), \
                quiet(verbose):
            module, quantizer = quantize_int8_litert(model, example, calibration)
            if inputs:
                with torch.no_grad():
                    quantized_reference = [module(x) for x in inputs]
        with step("converting to LiteRT int8", enabled=progress), quiet(verbose):
            data = _convert(module, example, quantizer)
    else:
        with step("converting to LiteRT fp32 (litert-torch)", enabled=progress), quiet(verbose):
            data = _convert(model, example)
    with quiet(verbose):  # the interpreter announces its XNNPACK delegate on stderr
        report.update(inspect_tflite(data))
    tmp.write_bytes(data)
    if not inputs:
        return report, {"status": "skipped", "message": "--no-verify"}
    with step("verifying in LiteRT (XNNPACK)", enabled=progress), quiet(verbose):
        outputs = run_tflite(tmp, inputs, precision=target.precision)
    if target.precision == "int8":
        check = verify.check_int8(reference, quantized_reference, outputs, info.trained,
                                  runtime_min_cosine=verify.LITERT_INT8_RUNTIME_MIN_COSINE)
    else:
        check = verify.check_fp32(reference, outputs)
    return report, {"runtime": "litert" + ("-int8" if target.precision == "int8" else ""),
                    **check}
