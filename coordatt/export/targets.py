"""Producing and verifying one artifact of each format (the per-format step of pipeline.py)."""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from .._quiet import quiet
from . import verify
from .progress import step

__all__ = ["produce"]


def _not_finite(outputs) -> dict | None:
    """A failed verification when the artifact's outputs hold NaN/Inf (eager's are finite)."""
    if all(bool(torch.isfinite(o).all()) for o in outputs):
        return None
    return {"status": "failed", "reference": "eager PyTorch fp32",
            "message": "the artifact's outputs hold NaN/Inf values where eager PyTorch's are "
                       "finite"}


def _check_fp32(reference, outputs) -> dict:
    if (failed := _not_finite(outputs)) is not None:
        return failed
    metrics = verify.compare_logits(reference, outputs)
    ok = metrics["max_abs_diff"] <= verify.FP32_REL_TOL * max(metrics["logit_scale"], 1e-30)
    return {"status": "passed" if ok else "failed", "reference": "eager PyTorch fp32", **metrics,
            "tolerance": f"max_abs_diff <= {verify.FP32_REL_TOL:g} x logit_scale",
            "message": f"max abs diff {metrics['max_abs_diff']:.3g} at logit scale "
                       f"{metrics['logit_scale']:.3g}"}


def _check_int8(reference, quantized_reference, outputs, trained: bool) -> dict:
    """The artifact must reproduce the quantized PyTorch program, and agree with fp32 by SQNR and
    cosine. Top-1 agreement is judged with trained weights only: an untrained head's logits are
    near ties, whose order any noise flips."""
    if (failed := _not_finite(outputs)) is not None:
        return failed
    runtime = verify.compare_logits(quantized_reference, outputs)
    m = verify.compare_logits(reference, outputs)
    sqnr = m["sqnr_db"] if m["sqnr_db"] is not None else float("inf")  # None: identical
    faithful = runtime["min_cosine"] >= verify.INT8_RUNTIME_MIN_COSINE
    top1_ok = m["top1_agreement"] >= verify.INT8_MIN_TOP1_AGREEMENT
    quality = sqnr >= verify.INT8_MIN_SQNR_DB and m["min_cosine"] >= verify.INT8_MIN_COSINE
    ok = faithful and quality and (top1_ok or not trained)
    message = (f"SQNR {sqnr:.1f} dB, cosine {m['min_cosine']:.4f}, top-1 agreement "
               f"{m['top1_agreement']:.0%} vs fp32; cosine {runtime['min_cosine']:.4f} vs the "
               f"quantized PyTorch program")
    if not trained:
        message += "; untrained weights: top-1 not judged"
    return {"status": "passed" if ok else "failed", "reference": "eager PyTorch fp32", **m,
            "top1_judged": trained,
            "vs_quantized_pytorch": runtime,
            "tolerance": (f"vs quantized PyTorch: min_cosine >= "
                          f"{verify.INT8_RUNTIME_MIN_COSINE:g}; vs fp32 (trained weights): "
                          f"sqnr_db >= {verify.INT8_MIN_SQNR_DB:g}, min_cosine >= "
                          f"{verify.INT8_MIN_COSINE:g}, top1_agreement >= "
                          f"{verify.INT8_MIN_TOP1_AGREEMENT:g}"),
            "message": message}


def _pte(target, tmp: Path, info, example, config, inputs, reference, verbose, progress):
    from .pte import lower_to_pte, run_pte

    program = info.exported if info.exported is not None else info.model
    report: dict = {}
    quantized_reference = None
    if target.precision == "int8":
        from .quantize import calibration_inputs, quantize_int8

        calibration, source = calibration_inputs(config.calibration_dir, info.preprocess)
        report["calibration"] = source
        with step(f"quantizing to int8 (PT2E, {source})", enabled=progress), quiet(verbose):
            program = quantize_int8(info.model, example, calibration)
            if inputs:
                with torch.no_grad():
                    quantized_module = program.module()
                    quantized_reference = [quantized_module(x) for x in inputs]
    with step(f"lowering to ExecuTorch {target.backend} {target.precision}", enabled=progress), \
            quiet(verbose):
        data, lowering = lower_to_pte(program, example, backend=target.backend)
    report.update(lowering)
    tmp.write_bytes(data)
    if not inputs:
        return report, {"status": "skipped", "message": "--no-verify"}
    with step("verifying in the ExecuTorch runtime", enabled=progress), quiet(verbose):
        outputs = run_pte(tmp, inputs)
    if target.precision == "int8":
        check = _check_int8(reference, quantized_reference, outputs, info.trained)
    else:
        check = _check_fp32(reference, outputs)
    return report, {"runtime": "executorch", **check}


def _onnx(target, tmp: Path, info, example, config, inputs, reference, verbose, progress):
    from .onnx import export_onnx, run_onnx

    metadata = {"model": info.spec, "name": info.name, "width_mult": str(info.width_mult),
                "num_classes": str(info.num_classes), "producer": "coordatt-export",
                "preprocess": "see the .json sidecar"}
    with step("exporting to ONNX (dynamo, opset 18)", enabled=progress), quiet(verbose):
        data, report = export_onnx(info.model, example, metadata)
    tmp.write_bytes(data)
    if not inputs:
        return report, {"status": "skipped", "message": "--no-verify"}
    with step("verifying in ONNX Runtime (CPU)", enabled=progress), quiet(verbose):
        outputs = run_onnx(tmp, inputs)
    return report, {"runtime": "onnxruntime", **_check_fp32(reference, outputs)}


def _coreml(target, tmp: Path, info, example, config, inputs, reference, verbose, progress):
    from .. import __version__
    from .coreml import can_predict, export_coreml, run_coreml

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
    if (failed := _not_finite(outputs)) is not None:
        return {"runtime": "coreml", **failed}
    m = verify.compare_logits(reference, outputs)
    tol = 1e-2 if target.precision == "fp16" else verify.FP32_REL_TOL
    ok = m["max_abs_diff"] <= tol * m["logit_scale"]
    return report, {"status": "passed" if ok else "failed", "runtime": "coreml", **m,
                    "tolerance": f"max_abs_diff <= {tol:g} x logit_scale",
                    "message": f"max abs diff {m['max_abs_diff']:.3g}"}


_PRODUCERS = {"pte": _pte, "onnx": _onnx, "coreml": _coreml}


def produce(target, tmp: Path, info, example: torch.Tensor, config,
            inputs: list[torch.Tensor], reference: list[torch.Tensor], *, verbose: bool,
            progress: bool) -> tuple[dict, dict]:
    """Write ``target``'s artifact of ``info`` (a subject.ModelInfo) to ``tmp`` and verify it;
    returns (report, verification)."""
    return _PRODUCERS[target.format](target, tmp, info, example, config, inputs, reference,
                                     verbose, progress)
