"""Where CoordAtt's time goes in an ONNX Runtime session (CPU EP, ORT_ENABLE_ALL, 1 thread): ORT's
per-node profile, each kernel put in a CA category by its tensor shapes (int8 runs NHWC, fp32
NCHW/NCHWc), ms per run summed per category. Wall time per node: rough under load, shares only.

    python benchmarks/ca_levers/ort_profile_ca.py --out P.json a.onnx b.onnx ...
"""

from __future__ import annotations

import argparse
import json
import tempfile
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np

from coordatt.runtime.onnxruntime import ort_session


def _dims(shapes):
    return [next(iter(s.values())) for s in shapes]


def category(op: str, ins, outs) -> str:
    """A CA category from a kernel's shapes, or ``op`` for the network's own kernels."""
    o = outs[0] if outs else []
    i = ins[0] if ins else []
    if len(o) != 4 or len(i) != 4:
        return op
    nhwc = op.startswith("QLinear")
    h_in, w_in = (i[1], i[2]) if nhwc else (i[2], i[3])
    h, w = (o[1], o[2]) if nhwc else (o[2], o[3])
    line = (h == 1) != (w == 1)  # [.., H, 1] or [.., 1, W]: CA's pooled maps
    if op in ("QLinearConv", "Conv", "FusedConv"):
        if (h_in, w_in) != (h, w) and (h == h_in or w == w_in):
            return "CA pooling conv"
        if line and (h_in == 1) != (w_in == 1):
            return "CA encoder/gate conv"
        return op
    if op in ("QLinearMul", "Mul"):
        if line:
            return "CA h-swish/small Mul"
        return "CA gate Mul (full size)"
    if op in ("QLinearAdd", "Add", "Clip", "HardSigmoid", "HardSwish", "QLinearSigmoid",
              "Sigmoid", "QuantizeLinear", "DequantizeLinear"):
        return f"CA {op} (small)" if line else op
    return op


def profile(path: Path, runs: int) -> dict:
    x = np.random.default_rng(0).standard_normal((1, 3, 224, 224), dtype=np.float32)
    with tempfile.TemporaryDirectory() as tmp:
        s = ort_session(path, 1, str(Path(tmp) / "ort"))
        feed = {s.get_inputs()[0].name: x}
        for _ in range(runs + 1):
            s.run(None, feed)
        events = json.loads(Path(s.end_profiling()).read_text())
    ms: dict[str, float] = defaultdict(float)
    calls: Counter = Counter()
    for e in events:
        if e.get("cat") == "Node" and e.get("name", "").endswith("_kernel_time"):
            a = e["args"]
            cat = category(a["op_name"], _dims(a.get("input_type_shape", [])),
                           _dims(a.get("output_type_shape", [])))
            ms[cat] += e["dur"] / 1000 / (runs + 1)
            calls[cat] += 1
    total = sum(ms.values())
    return {"total_ms": total, "rows": [
        {"category": c, "calls": calls[c] // (runs + 1), "ms": ms[c], "share": ms[c] / total}
        for c in sorted(ms, key=lambda c: -ms[c])]}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("artifacts", nargs="+", type=Path)
    p.add_argument("--runs", type=int, default=30)
    p.add_argument("--out", type=Path, required=True)
    args = p.parse_args()
    result = {}
    for path in args.artifacts:
        result[path.name] = r = profile(path, args.runs)
        print(f"{path.name}: {r['total_ms']:.2f} ms/run (profiled wall)")
        for row in r["rows"]:
            print(f"  {row['category']:28s} {row['calls']:4d} {row['ms']:7.3f} {row['share']:6.1%}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
