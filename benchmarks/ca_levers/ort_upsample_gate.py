"""Experiment (not a coordatt formulation): CoordAtt's gates brought to full size by nearest
upsampling before the multiplies, x * up(a_h) * up(a_w), so every multiply has same-shape inputs.
ONNX Runtime's NchwcTransformer keeps a Mul in the blocked NCHWc layout only when its inputs have
the same shape (TransformBinary) but does transform a nearest Resize with constant scales, so this
may run CA's gating without leaving NCHWc (no ReorderOutput/ReorderInput of x). Same function
exactly (nearest upsampling copies values). Writes ``DIR/upgate_fp32.onnx`` (+ sidecar) from the
exporter's stand-in MobileNetV2-CA 1.0x/224 encoded apart; with ``int8``, ``DIR/upgate_int8.onnx``
from the int8 default (INT8_CA_FORMULATION) with its gates upsampled, quantized as the exporter
does.

    python benchmarks/ca_levers/ort_upsample_gate.py DIR [int8]
"""

from __future__ import annotations

import json
import sys
import types
from pathlib import Path

import torch
import torch.nn.functional as F

from coordatt.ca_variants import CoordAttVariant, with_ca_variant
from coordatt.export.onnx import INT8_CA_FORMULATION, export_onnx
from coordatt.export.onnx_int8 import quantize_onnx
from coordatt.export.pipeline import ExportConfig
from coordatt.export.quantize import calibration_inputs
from coordatt.export.subject import prepare_from_config
from coordatt.preprocess import preprocess_config, sample_images


def _forward(self, x: torch.Tensor) -> torch.Tensor:
    h, w = self.height, self.width
    if self.choices["pool"] == "dwconv":  # as CoordAttVariant.forward
        x_h, x_w = x, x
        for i, k in enumerate(self.pool_h_taps):
            x_h = F.conv2d(x_h, getattr(self, f"pool_h_weight{i}"), stride=(1, k),
                           groups=x.shape[1])
        for i, k in enumerate(self.pool_w_taps):
            x_w = F.conv2d(x_w, getattr(self, f"pool_w_weight{i}"), stride=(k, 1),
                           groups=x.shape[1])
    else:
        x_h, x_w = F.avg_pool2d(x, (1, w)), F.avg_pool2d(x, (h, 1))
    y_h = self._act(self.bn1(self.conv1(x_h)))
    y_w = self._act(self.bn1_w(self.conv1_w(x_w)))
    a_h = F.interpolate(self.conv_h(y_h).sigmoid(), scale_factor=(1.0, float(w)), mode="nearest")
    a_w = F.interpolate(self.conv_w(y_w).sigmoid(), scale_factor=(float(h), 1.0), mode="nearest")
    return x * (a_h * a_w)


def main(argv: list[str]) -> None:
    out = Path(argv[0])
    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)
    x = torch.randn(1, 3, 224, 224)
    model = prepare_from_config(ExportConfig(model="mobilenetv2_ca")).model
    int8 = argv[1:] == ["int8"]
    variant = with_ca_variant(model, x, **(INT8_CA_FORMULATION if int8 else {"encode": "apart"}))
    for m in variant.modules():
        if isinstance(m, CoordAttVariant):
            m.forward = types.MethodType(_forward, m)
    with torch.no_grad():
        print("max |diff| to the model:", float((variant(x) - model(x)).abs().max()))
    precision = "int8" if int8 else "fp32"
    path = out / f"upgate_{precision}.onnx"
    data = export_onnx(variant, x, {})[0]
    if int8:
        calibration, _ = calibration_inputs(sample_images()[0].parent,
                                            preprocess_config((224, 224)))
        quantize_onnx(data, calibration, path)
    else:
        path.write_bytes(data)
    path.with_name(path.name + ".json").write_text(json.dumps(
        {"precision": precision, "model": "mobilenetv2_ca",
         "ca_formulation": f"{INT8_CA_FORMULATION if int8 else 'apart'}, upsampled gates"}))


if __name__ == "__main__":
    main(sys.argv[1:])
