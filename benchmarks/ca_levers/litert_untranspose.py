"""An experiment, not the exporter: drop the TRANSPOSE -> ADD(scalar) -> TRANSPOSE sandwiches that
litert-torch 0.10 writes around CoordAtt's int8 ``t + 3`` (relu6 formulation) from a ``.tflite``,
the ADD reading the first transpose's input and writing the second's output (an elementwise op
with a scalar commutes with a transpose; the outputs were bit-identical on MobileNetV2-CA).

    python benchmarks/ca_levers/litert_untranspose.py in.tflite out.tflite
"""

from __future__ import annotations

import sys

import numpy as np
from ai_edge_litert import schema_py_generated as fb
from ai_edge_litert.tools import flatbuffer_utils

_NAMES = {v: k for k, v in vars(fb.BuiltinOperator).items() if isinstance(v, int)}


def untranspose(src: str, dst: str) -> int:
    """Write ``src`` without its transpose sandwiches to ``dst``; returns how many it dropped."""
    model = flatbuffer_utils.read_model(src)
    graph = model.subgraphs[0]

    def name(op) -> str:
        code = model.operatorCodes[op.opcodeIndex]
        return _NAMES[max(code.builtinCode, code.deprecatedBuiltinCode)]

    consumers: dict[int, list[int]] = {}
    for i, op in enumerate(graph.operators):
        for t in op.inputs:
            consumers.setdefault(t, []).append(i)
    producer = {t: i for i, op in enumerate(graph.operators) for t in op.outputs}
    drop: set[int] = set()
    for op in graph.operators:
        if name(op) != "ADD":
            continue
        before, constant = op.inputs
        if int(np.prod(graph.tensors[constant].shape)) != 1:  # a scalar (or [1]) only
            continue
        after = op.outputs[0]
        if before not in producer or name(graph.operators[producer[before]]) != "TRANSPOSE":
            continue
        if len(consumers.get(before, [])) != 1 or len(consumers.get(after, [])) != 1:
            continue
        second = consumers[after][0]
        if name(graph.operators[second]) != "TRANSPOSE":  # assumed the first one's inverse
            continue
        first = producer[before]
        op.inputs = [graph.operators[first].inputs[0], constant]
        op.outputs = [graph.operators[second].outputs[0]]
        drop |= {first, second}
    graph.operators = [op for i, op in enumerate(graph.operators) if i not in drop]
    flatbuffer_utils.write_model(model, dst)
    return len(drop) // 2


if __name__ == "__main__":
    print("removed", untranspose(*sys.argv[1:3]), "sandwiches")
