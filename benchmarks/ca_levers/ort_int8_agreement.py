"""int8 agreement with fp32 of the int8 ``.onnx`` (ONNX Runtime's QDQ recipe, onnx_int8.py) on the
trained test network, for CoordAtt formulations given on the command line: int8_agreement.py's
network, calibration (3 training images a class) and scores, each formulation quantized from the
same trained model.

    python benchmarks/ca_levers/ort_int8_agreement.py --out A.json \\
        asis= dwapart=pool:dwconv,encode:apart relu6=pool:dwconv,encode:apart,act:relu6
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
from coordatt.export.onnx import export_onnx  # noqa: E402
from coordatt.export.onnx_int8 import quantize_onnx  # noqa: E402
from coordatt.runtime import run_artifact  # noqa: E402


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("specs", nargs="+", help="tag=key:value,... (no choices: the model as written)")
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "coordatt-trained")
    args = p.parse_args()
    net, model, calibration, val, labels, ref = trained_setup(args.cache)
    rows = {"fp32": _scores(ref, ref, labels)}
    for spec in args.specs:
        tag, _, body = spec.partition("=")
        choices = dict(kv.split(":") for kv in body.split(",") if kv)
        variant = with_ca_variant(model, calibration[0], **choices) if choices else model
        with torch.no_grad():
            fp32_err = float((variant(val[0]) - model(val[0])).abs().max())
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "m.onnx"
            quantize_onnx(export_onnx(variant, calibration[0], {})[0], calibration, path)
            out = torch.cat([torch.as_tensor(o)
                             for o in run_artifact("onnxruntime-int8", path, val)])
        rows[tag] = {"choices": choices, "fp32_max_abs_diff_to_model": fp32_err,
                     "onnxruntime": _scores(ref, out, labels)}
        print(tag, rows[tag], flush=True)
    write_result(args.out, net, val, calibration, "formulations", rows)


if __name__ == "__main__":
    main()
