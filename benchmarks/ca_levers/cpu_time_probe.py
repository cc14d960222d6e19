"""Latency of artifacts on a crowded host: each run's wall time AND the CPU time of the thread
that ran it, interleaved in round-robin blocks in one process, 1 thread.

At 1 thread ExecuTorch's XNNPACK delegate and ONNX Runtime (intra_op_num_threads=1) run on the
caller's thread, so ``time.thread_time_ns`` counts the work of the run and not the time the
scheduler gave other tenants; when the host's load is far above its core count (as on
2026-11-27, load 8-14 on 2 vCPUs) wall medians measure the queue, CPU-time medians still rank
formulations. Shared caches and SMT siblings still disturb both.

    python benchmarks/ca_levers/cpu_time_probe.py --out result.json a.pte b.pte c.onnx ...
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import numpy as np

from coordatt.bench.stats import summarize
from coordatt.runtime import open_session


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("artifacts", nargs="+", type=Path)
    p.add_argument("--iters", type=int, default=200)
    p.add_argument("--warmup", type=int, default=10)
    p.add_argument("--block", type=int, default=10)
    p.add_argument("--out", type=Path, required=True)
    args = p.parse_args()
    x = np.random.default_rng(0).standard_normal((1, 3, 224, 224), dtype=np.float32)
    sessions = {}
    for path in args.artifacts:
        sidecar = json.loads(Path(f"{path}.json").read_text())
        precision = sidecar.get("precision", "fp32")
        kind = "executorch-xnnpack" if path.suffix == ".pte" else "onnxruntime"
        runtime = f"{kind}-int8" if precision == "int8" else kind
        session = open_session(runtime, path, threads=1)
        session.prepare()
        session.load()
        for _ in range(args.warmup):
            session.run(x)
        sessions[path.name] = session
    wall = {k: [] for k in sessions}
    cpu = {k: [] for k in sessions}
    for _ in range(0, args.iters, args.block):
        for name, session in sessions.items():
            time.sleep(0.02)
            session.run(x)  # untimed, as coordatt-bench's blocks
            for _ in range(args.block):
                w0, c0 = time.perf_counter_ns(), time.thread_time_ns()
                session.run(x)
                cpu[name].append((time.thread_time_ns() - c0) / 1e6)
                wall[name].append((time.perf_counter_ns() - w0) / 1e6)
    rows = [{"artifact": k, "wall": summarize(wall[k]), "cpu": summarize(cpu[k]),
             "wall_samples_ms": wall[k], "cpu_samples_ms": cpu[k]} for k in sessions]
    isa = sorted({f for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("flags") for f in line.split(":")[1].split()
                  if f in ("avx2", "fma", "avx512f", "avx512_vnni", "avx_vnni")})
    with open("/proc/loadavg") as f:
        load = f.read().split()[:3]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"threads": 1, "iters": args.iters, "isa": isa,
                                    "machine": platform.processor() or platform.machine(),
                                    "loadavg_at_end": load, "rows": rows}, indent=1))
    for r in rows:
        print(f"{r['artifact']:48s} wall median {r['wall']['median_ms']:7.3f}  "
              f"cpu median {r['cpu']['median_ms']:7.3f}  cpu min {r['cpu']['min_ms']:7.3f} ms")


if __name__ == "__main__":
    main()
