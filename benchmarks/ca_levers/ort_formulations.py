"""Export MobileNetV2 and MobileNetV2-CA (1.0x, 224x224, coordatt-export's seeded stand-in
weights: latency is the real network's) to ``.onnx`` in coordatt.ca_variants formulations, fp32
or int8 (onnx_int8.quantize_onnx, calibrated on the bundled photos), each with a sidecar
``{"precision": ...}`` for cpu_time_probe.py, and the ONNX Runtime per-operator profile of each
(CPU EP, ORT_ENABLE_ALL, 1 thread: operator counts per run are exact, times only rough).

    python benchmarks/ca_levers/ort_formulations.py DIR fp32 plain= ca= apart=encode:apart ...
    python benchmarks/ca_levers/ort_formulations.py DIR int8 r6=pool:dwconv,encode:apart,act:relu6

Each ``tag=key:value,...`` is one artifact (``plain=``: MobileNetV2; any other tag with no
choices: MobileNetV2-CA as written); ``float:Op+Op`` (int8 only) sets the quantizer's
``float_op_types`` (``float:`` none; default onnx_int8.DEFAULT_OPTIONS'). Writes
``DIR/<tag>_<precision>.onnx`` and ``DIR/profiles_<precision>.json``.
"""

from __future__ import annotations

import json
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import onnx
import torch

from coordatt.ca_variants import with_ca_variant
from coordatt.export.onnx import export_onnx
from coordatt.export.onnx_int8 import DEFAULT_OPTIONS, quantize_onnx
from coordatt.export.pipeline import ExportConfig
from coordatt.export.quantize import calibration_inputs
from coordatt.export.subject import prepare_from_config
from coordatt.preprocess import preprocess_config, sample_images
from coordatt.runtime import open_session


def main(argv: list[str]) -> None:
    out, precision, *specs = argv
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    calibration = None
    if precision == "int8":
        calibration, _ = calibration_inputs(sample_images()[0].parent,
                                            preprocess_config((224, 224)))
    torch.manual_seed(0)
    x = torch.randn(1, 3, 224, 224)
    models = {}
    profiles = {}
    for spec in specs:
        tag, _, body = spec.partition("=")
        choices = dict(kv.split(":") for kv in body.split(",") if kv)
        options = DEFAULT_OPTIONS
        if "float" in choices:
            options = replace(options, float_op_types=tuple(
                op for op in choices.pop("float").split("+") if op))
        name = "mobilenetv2" if tag == "plain" else "mobilenetv2_ca"
        if name not in models:
            models[name] = prepare_from_config(ExportConfig(model=name)).model
        model = with_ca_variant(models[name], x, **choices) if choices else models[name]
        path = out / f"{tag}_{precision}.onnx"
        data, report = export_onnx(model, x, {})
        if calibration is None:
            path.write_bytes(data)
        else:
            report = quantize_onnx(data, calibration, path, options)
        path.with_name(path.name + ".json").write_text(json.dumps(
            {"precision": precision, "model": name, "ca_formulation": choices,
             **({"float_op_types": list(options.float_op_types)} if calibration else {})}))
        graph_ops: dict[str, int] = {}
        for node in onnx.load(str(path)).graph.node:
            graph_ops[node.op_type] = graph_ops.get(node.op_type, 0) + 1
        runtime = "onnxruntime-int8" if precision == "int8" else "onnxruntime"
        with torch.no_grad():
            ref = model(x).numpy()
        session = open_session(runtime, path, threads=1)
        session.prepare()
        session.load()
        err = float(np.abs(session.run(x.numpy()) - ref).max())
        rows = session.profile(x.numpy(), 20)
        profiles[tag] = {"choices": choices, "export_report": report, "max_abs_err_vs_eager": err,
                         "graph_ops": dict(sorted(graph_ops.items())),
                         "ort_kernels_per_run": {r["op"]: r["calls"] for r in rows},
                         "ort_profile": rows}
        kernels = sum(r["calls"] for r in rows)
        print(f"{tag:24s} err {err:.2e} kernels/run {kernels} "
              + " ".join(f"{r['op']}:{r['calls']}:{r['share']:.0%}" for r in rows[:10]),
              flush=True)
    (out / f"profiles_{precision}.json").write_text(json.dumps(profiles, indent=1))


if __name__ == "__main__":
    main(sys.argv[1:])
