"""int8 ONNX through ONNX Runtime's post-training static quantizer (QDQ format).

fp32 ``.onnx`` -> ``quant_pre_process`` (shape inference, ORT's basic graph optimizations) ->
``quantize_static`` (activation ranges calibrated on the calibration inputs, per-channel symmetric
int8 weights) -> one self-contained ``.onnx`` of QuantizeLinear/DequantizeLinear pairs around
float ops, which ONNX Runtime's CPU EP fuses into its integer kernels (QLinearConv, QLinearMul...)
when it loads the model. There is no PyTorch twin of this quantizer: the artifact is judged
against eager fp32 only (verify.check_int8).

The defaults (DEFAULT_OPTIONS) are for ORT's x86-64 CPU EP, measured there (ORT 1.31, AVX-512 VNNI
host, 1 thread, median of 50 runs, fp32 -> int8, before CoordAtt's poolings were rewritten):
MobileNetV2-CA 1.0x/224^2 11.7 -> 7.7 ms, MobileNetV2 7.8 -> 3.8 ms.

- uint8 activations, int8 weights (U8S8). ORT fuses QDQ groups with int8 activations into its
  integer kernels on ARM only (``QDQIsInt8Allowed()`` is false on x86): with S8S8 about half the
  convolutions stay DequantizeLinear -> float Conv -> QuantizeLinear, and int8 is slower than
  fp32 for CA (19-21 ms; MobileNetV2 6.3 ms). With U8S8 every Conv becomes a QLinearConv.
- CoordAtt arrives here rewritten by export/onnx.py (``INT8_CA_FORMULATION``): its directional
  means are depthwise convolutions with constant kernels, quantized into QLinearConv like every
  other conv, which measured 16-20% faster than the earlier float poolings (thread CPU time,
  benchmarks/ca_cost_levers.md), and its h-swish is ``t * relu6(t + 3)``, which quantizes into
  QLinearAdd (the relu6 folded into its range) and QLinearMul where ``HardSwish`` left 32 float
  HardSigmoid with 64 QuantizeLinear/DequantizeLinear (0-5% faster, 4 runs,
  benchmarks/ca_levers/onnxruntime.md). ``float_op_types`` still keeps AveragePool, and the
  Transpose and Concat it feeds, in float for a network whose poolings are not rewritten (else
  ORT fuses DequantizeLinear -> AveragePool -> QuantizeLinear back into QLinearAveragePool, 30%
  of the CA network's int8 time; CA int8 with them quantized: 8.7 ms). Leaving the gates' sigmoids
  in float changed nothing (ORT fuses them back as well); their multiplies in float, or the whole
  block, was slower (full-size float Mul plus its QDQ conversions).
- MinMax calibration. Percentile (99.999%) gave the same SQNR within 0.5 dB (the trained test
  network, the stand-in) at up to 3x the calibration time. Entropy through ``quantize_static``
  histograms 128 bins for 128 quantized bins, a single candidate threshold: MinMax's ranges.
- per-channel weights (per-tensor: -1.2 dB SQNR, speed the same within noise); ORT's
  extra_options left at their defaults (ActivationSymmetric: 10.1 ms and -2 dB;
  QDQKeepRemovableActivations: 8.3 ms; DedicatedQDQPair: no change).
"""

from __future__ import annotations

import os
import secrets
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path

import torch

from .._quiet import quiet
from ..errors import ExportError, require
from . import verify
from .progress import step

__all__ = ["OrtInt8Options", "DEFAULT_OPTIONS", "quantize_onnx", "produce_int8", "QDQ_OPS"]

QDQ_OPS = ("QuantizeLinear", "DequantizeLinear")
ACTIVATION_TYPES = ("QUInt8", "QInt8")
CALIBRATION_METHODS = ("MinMax", "Entropy", "Percentile")


@dataclass(frozen=True)
class OrtInt8Options:
    """``quantize_static``'s settings, named as in onnxruntime.quantization."""

    activation_type: str = "QUInt8"  # QUInt8 | QInt8 (QInt8: half the convs float on x86)
    per_channel: bool = True
    calibration_method: str = "MinMax"  # MinMax | Entropy | Percentile
    # op types left in float; every other op type ORT's quantizer handles is quantized
    float_op_types: tuple[str, ...] = ("AveragePool", "Transpose", "Concat")
    extra_options: tuple[tuple[str, object], ...] = ()  # quantize_static's, as (key, value)

    def __post_init__(self) -> None:
        if self.activation_type not in ACTIVATION_TYPES:
            raise ValueError(f"unknown activation type {self.activation_type!r}; choose from "
                             f"{', '.join(ACTIVATION_TYPES)}")
        if self.calibration_method not in CALIBRATION_METHODS:
            raise ValueError(f"unknown calibration method {self.calibration_method!r}; choose "
                             f"from {', '.join(CALIBRATION_METHODS)}")

    def report(self) -> dict:
        return {**asdict(self), "weight_type": "QInt8", "quant_format": "QDQ",
                "float_op_types": list(self.float_op_types),
                "extra_options": dict(self.extra_options)}


DEFAULT_OPTIONS = OrtInt8Options()


def _op_types(float_op_types: tuple[str, ...]) -> list[str]:
    """Every op type ONNX Runtime's QDQ quantizer handles, less ``float_op_types``."""
    from onnxruntime.quantization.registry import QDQRegistry, QLinearOpsRegistry

    return sorted((set(QDQRegistry) | set(QLinearOpsRegistry)) - set(float_op_types))


def _reader(input_name: str, calibration: list[torch.Tensor]):
    """A CalibrationDataReader feeding each [1, 3, H, W] input once."""
    from onnxruntime.quantization import CalibrationDataReader

    class Reader(CalibrationDataReader):
        def __init__(self) -> None:
            self._feeds = iter(calibration)

        def get_next(self):
            x = next(self._feeds, None)
            return None if x is None else {input_name: x.detach().float().contiguous().numpy()}

    return Reader()


def quantize_onnx(data: bytes, calibration: list[torch.Tensor], dest: Path,
                  options: OrtInt8Options = DEFAULT_OPTIONS) -> dict:
    """Quantize the fp32 model ``data`` into ``dest``, calibrated on ``calibration`` ([1, 3, H, W]
    tensors), its metadata_props carried over; returns the int8 graph's report (nodes, op types,
    QuantizeLinear + DequantizeLinear count, the options).

    Its temporaries (the fp32 model, the preprocessed one, ORT's ``-inferred`` copy of it) live
    beside ``dest``, named ``.tmp-<pid>-...`` as the pipeline's so that a later export removes
    them if this process is killed, and are removed before it returns; on failure ``dest`` too.
    A quantizer failure is an ExportError.
    """
    onnx = require("onnx", "onnx")
    quantization = require("onnxruntime.quantization", "onnx")
    from onnxruntime.quantization.shape_inference import quant_pre_process

    if not calibration:
        raise ValueError("int8 quantization needs at least one calibration input")
    fp32 = onnx.load_from_string(data)
    initializers = {t.name for t in fp32.graph.initializer}
    input_name = next(i.name for i in fp32.graph.input if i.name not in initializers)
    dest = Path(dest)
    mine = f".tmp-{os.getpid()}-"
    stem = dest.name if dest.name.startswith(mine) else \
        f"{mine}{secrets.token_hex(4)}-{dest.name}"
    src, pre = dest.with_name(f"{stem}.fp32.onnx"), dest.with_name(f"{stem}.pre.onnx")
    done = False
    try:
        src.write_bytes(data)
        quant_pre_process(str(src), str(pre))
        quantization.quantize_static(
            str(pre), str(dest), _reader(input_name, calibration),
            quant_format=quantization.QuantFormat.QDQ,
            per_channel=options.per_channel,
            activation_type=getattr(quantization.QuantType, options.activation_type),
            weight_type=quantization.QuantType.QInt8,
            calibrate_method=getattr(quantization.CalibrationMethod,
                                     options.calibration_method),
            op_types_to_quantize=_op_types(options.float_op_types),
            extra_options=dict(options.extra_options),
        )
        int8 = onnx.load(str(dest))
        del int8.metadata_props[:]
        int8.metadata_props.extend(fp32.metadata_props)  # model, name, producer, ...
        # the dynamo exporter's per-node debug metadata (stack traces with this machine's paths,
        # FX nodes) survives quant_pre_process for some graphs (CA with relu6 h-swish: 1.44 MB
        # instead of 0.99 MB on the 0.35x test network); ORT does not read it
        for node in int8.graph.node:
            del node.metadata_props[:]
        onnx.checker.check_model(int8)
        dest.write_bytes(int8.SerializeToString(deterministic=True))
        done = True
    except Exception as e:  # one line for the user; the trace stays on the exception
        first = next(iter(str(e).strip().splitlines()), "")[:200]
        raise ExportError(f"ONNX Runtime's int8 quantizer failed: {type(e).__name__}: {first}; "
                          f"run with -v for the trace") from e
    finally:
        inferred = pre.with_name(f"{pre.stem}-inferred{pre.suffix}")  # quantize_static's copy
        for path in (src, pre, inferred, *(() if done else (dest,))):
            path.unlink(missing_ok=True)
    ops = Counter(node.op_type for node in int8.graph.node)
    return {"nodes": len(int8.graph.node), "op_types": sorted(ops),
            "qdq_nodes": sum(ops[op] for op in QDQ_OPS), "quantizer": options.report()}


def produce_int8(data: bytes, report: dict, target, tmp: Path, info, config, inputs,
                 reference, *, verbose: bool, progress: bool,
                 options: OrtInt8Options = DEFAULT_OPTIONS) -> tuple[dict, dict]:
    """Quantize the fp32 export ``data`` (with its export ``report``) into ``tmp``, calibrated as
    ``config`` says; verify it in ONNX Runtime against eager fp32."""
    from .quantize import calibration_inputs

    calibration, source = calibration_inputs(config.calibration_dir, info.preprocess)
    with step(f"quantizing to int8 (ONNX Runtime QDQ, {source})", enabled=progress), \
            quiet(verbose):
        int8 = quantize_onnx(data, calibration, tmp, options)
    report = {"opset": report.get("opset"), "fp32_nodes": report.get("nodes"),
              "fp32_size_bytes": len(data), **int8, "calibration": source,
              "calibration_method": options.calibration_method,
              **{k: report[k] for k in ("ca_formulation",) if k in report}}
    if not inputs:
        return report, {"status": "skipped", "message": "--no-verify"}
    from ..runtime import run_artifact

    with step("verifying in ONNX Runtime (CPU, int8)", enabled=progress), quiet(verbose):
        outputs = run_artifact("onnxruntime-int8", tmp, inputs)
    return report, {"runtime": "onnxruntime-int8",
                    **verify.check_int8(reference, None, outputs, info.trained)}
