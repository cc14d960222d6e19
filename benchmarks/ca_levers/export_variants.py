"""Export MobileNetV2-CA (1.0x, 224x224, the exporter's seeded stand-in weights) in
coordatt.ca_variants formulations to ``.pte`` (fp32, or int8 with XNNPACKQuantizer on the
rewritten network), named ``mobilenetv2_ca_<tag>``, for ``coordatt-bench --artifacts DIR``.

    python benchmarks/ca_levers/export_variants.py DIR fp32 apart=encode:apart ...
    python benchmarks/ca_levers/export_variants.py DIR int8 seq=pool:dwconv,gate:sequential

Each ``tag=key:value,...`` is one artifact.
"""

from __future__ import annotations

import sys

import torch

from coordatt.ca_variants import with_ca_variant
from coordatt.export.pipeline import ExportConfig, export_model
from coordatt.export.subject import prepare_from_config
from coordatt.preprocess import sample_images


def main(argv: list[str]) -> None:
    out, precision, *specs = argv
    info = prepare_from_config(ExportConfig(model="mobilenetv2_ca"))
    x = torch.randn(1, 3, 224, 224)
    for spec in specs:
        tag, _, body = spec.partition("=")
        choices = dict(kv.split(":") for kv in body.split(",") if kv)
        model = with_ca_variant(info.model, x, **choices)
        export_model(model, name=f"mobilenetv2_ca_{tag}", output_dir=out, formats=["pte"],
                     labels=info.labels, trained=False,
                     quantize="int8" if precision == "int8" else "none",
                     calibration_dir=sample_images()[0].parent if precision == "int8" else None,
                     overwrite=True)


if __name__ == "__main__":
    main(sys.argv[1:])
