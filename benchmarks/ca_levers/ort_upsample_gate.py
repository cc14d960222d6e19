"""Experiment (not a coordatt formulation): CoordAtt's gates brought to full size by nearest
upsampling before the multiplies, x * up(a_h) * up(a_w), so every multiply has same-shape inputs.
ONNX Runtime's NchwcTransformer keeps a Mul in the blocked NCHWc layout only when its inputs have
the same shape (TransformBinary) but does transform a nearest Resize with constant scales, so this
may run CA's gating without leaving NCHWc (no ReorderOutput/ReorderInput of x). Same function
exactly (nearest upsampling copies values). Writes ``DIR/upgate_fp32.onnx`` (+ sidecar) from the
exporter's stand-in MobileNetV2-CA 1.0x/224 encoded apart.

    python benchmarks/ca_levers/ort_upsample_gate.py DIR
"""

from __future__ import annotations

import json
import sys
import types
from pathlib import Path

import torch
import torch.nn.functional as F

from coordatt.ca_variants import CoordAttVariant, with_ca_variant
from coordatt.export.onnx import export_onnx
from coordatt.export.pipeline import ExportConfig
from coordatt.export.subject import prepare_from_config


def _forward(self, x: torch.Tensor) -> torch.Tensor:
    h, w = self.height, self.width
    y_h = self._act(self.bn1(self.conv1(F.avg_pool2d(x, (1, w)))))
    y_w = self._act(self.bn1_w(self.conv1_w(F.avg_pool2d(x, (h, 1)))))
    a_h = F.interpolate(self.conv_h(y_h).sigmoid(), scale_factor=(1.0, float(w)), mode="nearest")
    a_w = F.interpolate(self.conv_w(y_w).sigmoid(), scale_factor=(float(h), 1.0), mode="nearest")
    return x * (a_h * a_w)


def main(argv: list[str]) -> None:
    out = Path(argv[0])
    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)
    x = torch.randn(1, 3, 224, 224)
    model = prepare_from_config(ExportConfig(model="mobilenetv2_ca")).model
    variant = with_ca_variant(model, x, encode="apart")
    for m in variant.modules():
        if isinstance(m, CoordAttVariant):
            m.forward = types.MethodType(_forward, m)
    with torch.no_grad():
        print("max |diff| to the model:", float((variant(x) - model(x)).abs().max()))
    path = out / "upgate_fp32.onnx"
    path.write_bytes(export_onnx(variant, x, {})[0])
    path.with_name(path.name + ".json").write_text(json.dumps(
        {"precision": "fp32", "model": "mobilenetv2_ca",
         "ca_formulation": "apart, upsampled gates"}))


if __name__ == "__main__":
    main(sys.argv[1:])
