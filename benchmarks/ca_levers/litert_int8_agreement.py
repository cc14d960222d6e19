"""int8 agreement with fp32 of the int8 ``.tflite`` on the trained test network (tests/trained.py:
MobileNetV2-CA 0.35x, 48x48, 10 synthetic classes, 200 val images), calibrated on 3 training
images a class as int8_agreement.py does, for CoordAtt as the model writes it and in each
coordatt.ca_variants formulation given; the quantized PyTorch module and the ``.tflite`` in
LiteRT (XNNPACK, 1 thread), both against eager fp32.

    python benchmarks/ca_levers/litert_int8_agreement.py --out agreement.json \
        base= dw_apart_relu6=pool:dwconv,encode:apart,act:relu6
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from int8_agreement import _scores, trained_setup, write_result  # noqa: E402

from coordatt.ca_variants import with_ca_variant  # noqa: E402
from coordatt.export.litert import _convert, inspect_tflite, quantize_int8_litert  # noqa: E402
from coordatt.runtime import run_artifact  # noqa: E402


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "coordatt-trained")
    p.add_argument("variants", nargs="+", help="tag=key:value,... (empty: as the model is)")
    args = p.parse_args()
    net, model, calibration, val, labels, ref = trained_setup(args.cache)
    rows = {"fp32": _scores(ref, ref, labels)}
    for spec in args.variants:
        tag, _, body = spec.partition("=")
        choices = dict(kv.split(":") for kv in body.split(",") if kv)
        variant = with_ca_variant(model, calibration[0], **choices)
        module, quantizer = quantize_int8_litert(variant, calibration[0], calibration)
        with torch.no_grad():
            out = torch.cat([module(x) for x in val])
        data = _convert(module, calibration[0], quantizer)
        report = inspect_tflite(data)
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "m.tflite"
            path.write_bytes(data)
            lite = torch.cat([torch.as_tensor(o) for o in run_artifact("litert-int8", path, val,
                                                                       threads=1)])
        rows[tag] = {"choices": choices, "pytorch": _scores(ref, out, labels),
                     "tflite": _scores(ref, lite, labels), "delegates": report["delegates"],
                     "non_delegated_op_counts": report["non_delegated_op_counts"]}
        print(tag, rows[tag], flush=True)
    write_result(args.out, net, val, calibration, "variants", rows)


if __name__ == "__main__":
    main()
