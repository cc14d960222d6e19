"""ONNX Runtime levers for Coordinate Attention's cost (issue 13), measured interleaved in one
process at 1 thread (1 intra-op thread: no spinning workers to disturb the other sessions).

Exports MobileNetV2 and MobileNetV2-CA (1.0x, 224x224, coordatt-export's seeded stand-in
weights: latency is the real network's) to fp32 ONNX with coordatt's exporter, MobileNetV2-CA
also in the export-time formulations of coordatt.ca_variants (``--precision int8``: then
quantized by the exporter's ONNX Runtime QDQ recipe, onnx_int8.quantize_onnx, on the bundled
photos), then times every (model, session options) pair in round-robin blocks and writes every
raw sample to a JSON file.

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

from coordatt.bench.stats import summarize
from coordatt.ca_variants import with_ca_variant
from coordatt.export.onnx import export_onnx
from coordatt.export.onnx_int8 import quantize_onnx
from coordatt.export.pipeline import ExportConfig
from coordatt.export.quantize import calibration_inputs
from coordatt.export.subject import prepare_from_config
from coordatt.preprocess import preprocess_config, sample_images

FORMULATIONS = {
    "mobilenetv2": None,
    "mobilenetv2_ca": {},
    "mobilenetv2_ca[apart]": {"encode": "apart"},
    "mobilenetv2_ca[apart+seq]": {"encode": "apart", "gate": "sequential"},
    "mobilenetv2_ca[dwconv+apart]": {"pool": "dwconv", "encode": "apart"},
    "mobilenetv2_ca[dwconv]": {"pool": "dwconv"},
}
# session options: graph optimisation level, and level ALL's layout transformers (NCHWc blocked
# layout for float convolutions, NHWC for int8 ones)
OPTIONS = {
    "all": {"level": "ORT_ENABLE_ALL"},
    "extended": {"level": "ORT_ENABLE_EXTENDED"},
    "all-no-nchwc": {"level": "ORT_ENABLE_ALL", "disabled": ["NchwcTransformer"]},
    "all-no-nhwc": {"level": "ORT_ENABLE_ALL", "disabled": ["NhwcTransformer"]},
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
    p.add_argument("--precision", choices=("fp32", "int8"), default="fp32")
    p.add_argument("--out", type=Path, required=True)
    args = p.parse_args()
    calibration = None
    if args.precision == "int8":
        calibration, _ = calibration_inputs(sample_images()[0].parent,
                                            preprocess_config((224, 224)))
    torch.manual_seed(0)
    x = torch.randn(1, 3, 224, 224)
    sessions, reference = {}, {}
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.models.split(","):
            choices = FORMULATIONS[name]
            # the exporter's seeded stand-in (BN statistics on the bundled photos): int8 ranges
            # like a trained network's, where random init has ~1e-12 logits
            model = prepare_from_config(ExportConfig(model=name.split("[")[0])).model
            if choices:
                model = with_ca_variant(model, x, **choices)
            path = Path(tmp) / f"{name}.onnx"
            data = export_onnx(model, x, {})[0]
            if calibration is None:
                path.write_bytes(data)
            else:
                quantize_onnx(data, calibration, path)
            with torch.no_grad():
                reference[name] = model(x).numpy()
            for opt in args.options.split(","):
                s = _session(ort, path, OPTIONS[opt])
                out = s.run(None, {"image": x.numpy()})[0]
                err = float(np.abs(out - reference[name]).max())
                sessions[(name, opt)] = (s, err)
        feed = {"image": x.numpy()}
        samples = {k: [] for k in sessions}
        cpu = {k: [] for k in sessions}  # the caller thread's CPU time: 1 intra-op thread
        for s, _ in sessions.values():
            for _ in range(args.warmup):
                s.run(None, feed)
        for _ in range(0, args.iters, args.block):
            for key, (s, _) in sessions.items():
                time.sleep(0.05)
                s.run(None, feed)  # untimed, as coordatt-bench's blocks
                for _ in range(args.block):
                    t0, c0 = time.perf_counter_ns(), time.thread_time_ns()
                    s.run(None, feed)
                    cpu[key].append((time.thread_time_ns() - c0) / 1e6)
                    samples[key].append((time.perf_counter_ns() - t0) / 1e6)
    rows = [{"model": m, "options": o, "session_options": OPTIONS[o],
             "max_abs_err": sessions[(m, o)][1], **summarize(v), "samples_ms": v,
             "cpu": summarize(cpu[(m, o)]), "cpu_samples_ms": cpu[(m, o)]}
            for (m, o), v in samples.items()]
    result = {"onnxruntime": ort.__version__, "torch": torch.__version__, "threads": 1,
              "precision": args.precision,
              "input": [1, 3, 224, 224], "machine": platform.processor() or platform.machine(),
              "iters": args.iters, "warmup": args.warmup, "rows": rows}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1))
    for r in rows:
        print(f"{r['model']:32s} {r['options']:14s} median {r['median_ms']:7.3f} ms  "
              f"cpu median {r['cpu']['median_ms']:7.3f}  err {r['max_abs_err']:.2e}")


if __name__ == "__main__":
    main()
