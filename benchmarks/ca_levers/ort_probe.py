"""ONNX Runtime levers for Coordinate Attention's cost (issue 13), measured interleaved in one
process at 1 thread (1 intra-op thread: no spinning workers to disturb the other sessions).

Exports MobileNetV2 and MobileNetV2-CA (1.0x, 224x224, seeded stand-in weights: latency is the
real network's) to fp32 ONNX with coordatt's exporter, MobileNetV2-CA also in the export-time
formulations of coordatt.ca_variants, then times every (model, session options) pair in
round-robin blocks and writes every raw sample to a JSON file.

    python benchmarks/ca_levers/ort_probe.py --iters 200 --out benchmarks/ca_levers/<date>/ort.json
"""

from __future__ import annotations

import argparse
import json
import platform
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from coordatt import create_model
from coordatt.bench.stats import summarize
from coordatt.ca_variants import with_ca_variant
from coordatt.export.onnx import export_onnx

FORMULATIONS = {
    "mobilenetv2": None,
    "mobilenetv2_ca": {},
    "mobilenetv2_ca[apart]": {"encode": "apart"},
    "mobilenetv2_ca[apart,seq]": {"encode": "apart", "gate": "sequential"},
    "mobilenetv2_ca[dwconv,apart]": {"pool": "dwconv", "encode": "apart"},
}
# session options: graph optimisation level, and the NCHWc layout transformer of level ALL
OPTIONS = {
    "all": {"level": "ORT_ENABLE_ALL"},
    "extended": {"level": "ORT_ENABLE_EXTENDED"},
    "all-no-nchwc": {"level": "ORT_ENABLE_ALL", "disabled": ["NchwcTransformer"]},
}


def _session(ort, path: Path, opts: dict):
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    so.log_severity_level = 3
    so.graph_optimization_level = getattr(ort.GraphOptimizationLevel, opts["level"])
    kwargs = {"disabled_optimizers": opts["disabled"]} if opts.get("disabled") else {}
    return ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"], **kwargs)


def main() -> None:
    import onnxruntime as ort

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--iters", type=int, default=100)
    p.add_argument("--warmup", type=int, default=10)
    p.add_argument("--block", type=int, default=10)
    p.add_argument("--models", default=",".join(FORMULATIONS))
    p.add_argument("--options", default=",".join(OPTIONS))
    p.add_argument("--out", type=Path, required=True)
    args = p.parse_args()
    torch.manual_seed(0)
    x = torch.randn(1, 3, 224, 224)
    sessions, reference = {}, {}
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.models.split(","):
            choices = FORMULATIONS[name]
            model = create_model(name.split("[")[0]).eval()
            if choices:
                model = with_ca_variant(model, x, **choices)
            path = Path(tmp) / f"{name}.onnx"
            path.write_bytes(export_onnx(model, x, {})[0])
            with torch.no_grad():
                reference[name] = model(x).numpy()
            for opt in args.options.split(","):
                s = _session(ort, path, OPTIONS[opt])
                out = s.run(None, {"image": x.numpy()})[0]
                err = float(np.abs(out - reference[name]).max())
                sessions[(name, opt)] = (s, err)
        feed = {"image": x.numpy()}
        samples = {k: [] for k in sessions}
        for s, _ in sessions.values():
            for _ in range(args.warmup):
                s.run(None, feed)
        for _ in range(0, args.iters, args.block):
            for key, (s, _) in sessions.items():
                time.sleep(0.05)
                s.run(None, feed)  # untimed, as coordatt-bench's blocks
                for _ in range(args.block):
                    t0 = time.perf_counter_ns()
                    s.run(None, feed)
                    samples[key].append((time.perf_counter_ns() - t0) / 1e6)
    rows = [{"model": m, "options": o, "session_options": OPTIONS[o],
             "max_abs_err": sessions[(m, o)][1], **summarize(v), "samples_ms": v}
            for (m, o), v in samples.items()]
    result = {"onnxruntime": ort.__version__, "torch": torch.__version__, "threads": 1,
              "input": [1, 3, 224, 224], "machine": platform.processor() or platform.machine(),
              "iters": args.iters, "warmup": args.warmup, "rows": rows}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1))
    for r in rows:
        print(f"{r['model']:32s} {r['options']:14s} median {r['median_ms']:7.3f} ms  "
              f"min {r['min_ms']:7.3f}  err {r['max_abs_err']:.2e}")


if __name__ == "__main__":
    main()
