"""int8 agreement with fp32 of each .pte int8 recipe on the trained test network (tests/trained.py:
MobileNetV2-CA 0.35x, 48x48, 10 synthetic classes, 200 val images), calibrated on 3 training
images a class as tests/test_int8_recipe.py does; the quantized PyTorch program and its lowered
.pte run in ExecuTorch, both against eager fp32.

    python benchmarks/ca_levers/int8_agreement.py --out benchmarks/ca_levers/<date>/agreement.json

With ``--onnx``: the int8 ``.onnx`` instead (ONNX Runtime's QDQ recipe, onnx_int8.py), quantized
from the model as written and from each ca_variants formulation given.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests"))

from trained import get_trained_net  # noqa: E402

from coordatt.export.int8_recipe import INT8_RECIPES  # noqa: E402
from coordatt.export.pte import lower_to_pte, run_pte  # noqa: E402
from coordatt.export.quantize import quantize_int8  # noqa: E402
from coordatt.preprocess import load_image, preprocess_config  # noqa: E402


def _scores(ref: torch.Tensor, out: torch.Tensor, labels: torch.Tensor) -> dict:
    sqnr = 10 * torch.log10(ref.pow(2).sum() / (ref - out).pow(2).sum()).item()
    return {"sqnr_db": round(sqnr, 2),
            "agreement": (out.argmax(1) == ref.argmax(1)).float().mean().item(),
            "top1": (out.argmax(1) == labels).float().mean().item()}


def trained_setup(cache: Path):
    """The trained test network, its calibration images (3 training images a class), its 200
    validation images with their labels, and eager fp32's logits on them."""
    net = get_trained_net(cache)
    model = net.load()
    pp = preprocess_config(net.input_size)
    train = net.data_dir / "train"
    calibration = [load_image(f, pp) for c in net.labels
                   for f in sorted((train / c).glob("*.png"))[:3]]
    val, labels = [], []
    for i, c in enumerate(net.labels):
        for f in sorted((net.val_dir / c).glob("*.png")):
            val.append(load_image(f, pp))
            labels.append(i)
    with torch.no_grad():
        ref = torch.cat([model(x) for x in val])
    return net, model, calibration, val, torch.tensor(labels), ref


def write_result(path: Path, net, val: list, calibration: list, key: str, rows: dict) -> None:
    """The JSON every agreement script writes: the network measured, torch's version and the
    scores (``rows``) under ``key``."""
    result = {"network": {"model": net.model_name, "width_mult": net.width_mult,
                          "input_size": list(net.input_size), "val_images": len(val),
                          "calibration_images": len(calibration)},
              "torch": torch.__version__, key: rows}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=1))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "coordatt-trained")
    p.add_argument("--recipes", default=",".join(INT8_RECIPES))
    p.add_argument("--onnx", action="store_true", help="measure the int8 .onnx instead")
    args = p.parse_args()
    net, model, calibration, val, labels, ref = trained_setup(args.cache)
    rows = {"fp32": _scores(ref, ref, labels)}
    if args.onnx:
        rows.update(_onnx_rows(model, calibration, val, ref, labels))
    for recipe in ([] if args.onnx else args.recipes.split(",")):
        program = quantize_int8(model, calibration[0], calibration, recipe=recipe)
        with torch.no_grad():
            out = torch.cat([program.module()(x) for x in val])
        data, report = lower_to_pte(program, calibration[0])
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "m.pte"
            path.write_bytes(data)
            pte_out = torch.cat([torch.as_tensor(o) for o in run_pte(path, val)])
        rows[recipe] = {"pytorch": _scores(ref, out, labels), "pte": _scores(ref, pte_out, labels),
                        "delegates": report["delegates"],
                        "non_delegated_ops": report["non_delegated_ops"]}
        print(recipe, rows[recipe], flush=True)
    write_result(args.out, net, val, calibration, "recipes", rows)


def _onnx_rows(model, calibration, val, ref, labels) -> dict:
    from coordatt.ca_variants import with_ca_variant
    from coordatt.export.onnx import INT8_CA_FORMULATION, export_onnx
    from coordatt.export.onnx_int8 import quantize_onnx
    from coordatt.runtime import run_artifact

    rows = {}
    for tag, choices in (("onnx, model as written", {}),
                         (f"onnx, {INT8_CA_FORMULATION}", INT8_CA_FORMULATION)):
        variant = with_ca_variant(model, calibration[0], **choices) if choices else model
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "m.onnx"
            quantize_onnx(export_onnx(variant, calibration[0], {})[0], calibration, path)
            out = torch.cat([torch.as_tensor(o) for o in run_artifact("onnxruntime-int8", path,
                                                                       val)])
        rows[tag] = {"onnxruntime": _scores(ref, out, labels)}
        print(tag, rows[tag], flush=True)
    return rows


if __name__ == "__main__":
    main()
