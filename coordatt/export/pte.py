"""ExecuTorch ``.pte``: torch.export -> to_edge_transform_and_lower(XNNPACK) -> to_executorch.

fp32 or int8 (PT2E with XNNPACKQuantizer, see quantize.py) through the XNNPACK delegate, or a
delegate-free program on ExecuTorch's portable kernels (a reference for debugging, ~100x slower).

The fp32 XNNPACK program holds CoordAtt in the formulation measured fastest there
(``FP32_CA_FORMULATION``, coordatt.ca_variants: the same function to float rounding; the model
and its checkpoint are untouched); int8 recipes choose their own (int8_recipe.py).
"""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

import torch
from torch import nn

from .._quiet import quiet
from ..errors import require
from . import verify
from .progress import step

__all__ = ["lower_to_pte", "inspect_pte", "run_pte", "produce", "BACKENDS"]

BACKENDS = ("xnnpack", "portable")
# the two directions encoded apart (no concat, transposes, slices), x * a_h * a_w: ExecuTorch
# XNNPACK fp32, 1 thread, MobileNetV2-CA 1.0x/224, thread-CPU-time medians of three interleaved
# runs -1.5%, -2.1%, -1.5% (encoded apart alone: -1.9%, +1.4%, -1.5%; pooling as depthwise
# convs +2.6%, +1.4%): benchmarks/ca_cost_levers.md
FP32_CA_FORMULATION = {"encode": "apart", "gate": "sequential"}
_DELEGATE_CALL = "executorch_call_delegate"


def _count_delegated(edge) -> tuple[int, list[str]]:
    """Operators inside the delegates, and the operators left outside them."""
    gm = edge.exported_program().graph_module
    inside = 0
    for name, sub in gm.named_children():
        if name.startswith("lowered_module"):
            inside += sum(n.op == "call_function" for n in sub.original_module.graph.nodes)
    outside = [str(n.target) for n in gm.graph.nodes if n.op == "call_function"
               and _DELEGATE_CALL not in str(n.target) and "getitem" not in str(n.target)]
    return inside, outside


def lower_to_pte(
    model: nn.Module | torch.export.ExportedProgram,
    example: torch.Tensor,
    *,
    backend: str = "xnnpack",
) -> tuple[bytes, dict]:
    """Lower an eval-mode model (or an already exported, e.g. quantized, program) to a ``.pte``.

    Returns the program's bytes and a report: delegate count, operators delegated and left out.
    """
    if backend not in BACKENDS:
        raise ValueError(f"unknown backend {backend!r}; choose from {', '.join(BACKENDS)}")
    exir = require("executorch.exir", "executorch")
    if isinstance(model, torch.export.ExportedProgram):
        program = model
    else:
        program = torch.export.export(model, (example,), strict=True)
    partitioners = []
    if backend == "xnnpack":
        from executorch.backends.xnnpack.partition.xnnpack_partitioner import XnnpackPartitioner

        partitioners = [XnnpackPartitioner()]
    edge = exir.to_edge_transform_and_lower(program, partitioner=partitioners)
    delegated, outside = _count_delegated(edge)
    data = edge.to_executorch().buffer
    info = inspect_pte(data)
    report = {
        "delegates": info["delegates"],
        "delegated_ops": delegated,
        "non_delegated_ops": len(outside) if backend == "xnnpack" else info["operator_calls"],
        "non_delegated_op_names": info["operators"],
    }
    return data, report


def inspect_pte(data: bytes) -> dict:
    """The structure of a serialized program: its delegates and the operators it runs outside
    them (the portable kernels), counted over the forward method's instructions."""
    from executorch.exir._serialize._program import deserialize_pte_binary

    program = deserialize_pte_binary(data)
    program = getattr(program, "program", program)  # newer releases wrap it
    plan = program.execution_plan[0]
    operators = [op.name + (f".{op.overload}" if op.overload else "") for op in plan.operators]
    calls = Counter()
    for chain in plan.chains:
        for instr in chain.instructions:
            args = instr.instr_args
            if hasattr(args, "op_index"):
                calls[operators[args.op_index]] += 1
    return {
        "delegates": len(plan.delegates),
        "delegate_ids": [d.id for d in plan.delegates],
        "operators": operators,
        "operator_calls": sum(calls.values()),
    }


def run_pte(path: str | os.PathLike, inputs: list[torch.Tensor]) -> list[torch.Tensor]:
    """Run a ``.pte`` in ExecuTorch's runtime on each input ([1, 3, H, W]); returns the outputs."""
    from ..runtime import run_artifact

    return run_artifact("executorch-xnnpack", path, inputs)


def produce(target, tmp: Path, info, example, config, inputs, reference, *, verbose: bool,
            progress: bool) -> tuple[dict, dict]:
    """Lower (and for int8 quantize) ``info``'s model to ``tmp``; verify it in ExecuTorch."""
    program = info.exported if info.exported is not None else info.model
    report: dict = {}
    if target.precision == "fp32" and target.backend == "xnnpack":
        from ..ca_variants import for_export

        variant, formulation = for_export(info.model, example, FP32_CA_FORMULATION)
        if formulation is not None:  # it holds CoordAtt: export the rewritten copy
            program = variant
            report["ca_formulation"] = formulation
    quantized_reference = None
    if target.precision == "int8":
        from .quantize import calibration_inputs, quantize_int8

        calibration, source = calibration_inputs(config.calibration_dir, info.preprocess)
        report["calibration"] = source
        report["int8_recipe"] = config.int8_recipe
        with step(f"quantizing to int8 (PT2E, {source})", enabled=progress), quiet(verbose):
            program = quantize_int8(info.model, example, calibration,
                                    recipe=config.int8_recipe)
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
        check = verify.check_int8(reference, quantized_reference, outputs, info.trained)
    else:
        check = verify.check_fp32(reference, outputs)
    return report, {"runtime": "executorch", **check}
