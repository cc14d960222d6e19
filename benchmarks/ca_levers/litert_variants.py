"""Export MobileNetV2 and MobileNetV2-CA (1.0x, 224x224, the exporter's seeded stand-in weights)
to LiteRT ``.tflite`` with CoordAtt in coordatt.ca_variants formulations, fp32 or int8
(calibrated on coordatt.preprocess.sample_images()), and print how much of each graph LiteRT's
XNNPACK delegate takes (the sidecar's report, export/litert.py inspect_tflite).

    python benchmarks/ca_levers/litert_variants.py DIR int8 plain base=  relu6=act:relu6 ...

Each ``tag=key:value,...`` is one MobileNetV2-CA artifact, ``mobilenetv2_ca_<tag>``; an empty
body is the formulation as the model is written; ``plain`` is MobileNetV2 itself. The exporter's
own defaults (export/litert.py LITERT_*_CA_FORMULATION) are switched off here, so the variant
given is what is exported.
"""

from __future__ import annotations

import json
import sys

import torch

from coordatt.ca_variants import with_ca_variant
from coordatt.export import litert
from coordatt.export.pipeline import ExportConfig, export_model
from coordatt.export.subject import prepare_from_config
from coordatt.preprocess import sample_images


def main(argv: list[str]) -> None:
    out, precision, *specs = argv
    litert.LITERT_FP32_CA_FORMULATION = litert.LITERT_INT8_CA_FORMULATION = None
    x = torch.randn(1, 3, 224, 224)
    int8 = precision == "int8"
    for spec in specs:
        tag, _, body = spec.partition("=")
        if tag == "plain":
            info = prepare_from_config(ExportConfig(model="mobilenetv2"))
            model, name = info.model, "mobilenetv2_plain"
        else:
            info = prepare_from_config(ExportConfig(model="mobilenetv2_ca"))
            choices = dict(kv.split(":") for kv in body.split(",") if kv)
            model, name = with_ca_variant(info.model, x, **choices), f"mobilenetv2_ca_{tag}"
        (result,) = export_model(model, name=name, output_dir=out, formats=["tflite"],
                                 labels=info.labels, trained=False,
                                 quantize="int8" if int8 else "none",
                                 calibration_dir=sample_images()[0].parent if int8 else None,
                                 overwrite=True, progress=False)
        r = result.report
        print(json.dumps({"artifact": result.sidecar_path.name.removesuffix(".json"),
                          "ops": r["ops"],
                          "delegates": r["delegates"], "delegated_ops": r["delegated_ops"],
                          "non_delegated_op_counts": r["non_delegated_op_counts"],
                          "ca_formulation": r.get("ca_formulation"),
                          "verification": result.verification.get("status")}), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
