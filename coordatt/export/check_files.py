"""The check file an export writes beside each artifact (coordatt/check_file.py has the format):
the verification inputs, eager PyTorch's outputs on them and the rule the export judged the
artifact by, so that ``coordatt-eval --check`` and the Android app can judge it the same way
where it runs."""

from __future__ import annotations

from pathlib import Path

import torch

from ..check_file import CheckData, check_path, write_check_file
from . import sidecar as sidecars
from . import verify

__all__ = ["write_check", "CHECK_FORMAT"]

CHECK_FORMAT = "coordatt.check/1"  # the check file's magic and version (docs/formats.md)


def _check_thresholds(target, info, verification: dict) -> dict:
    """The rule the export judged ``target`` by (its verification's ``thresholds``), or, where
    it did not run here (--no-verify, Core ML off macOS), the rule it would have used."""
    if isinstance(verification.get("thresholds"), dict):
        return dict(verification["thresholds"])
    if target.precision == "int8":
        return {"rule": "int8", "min_sqnr_db": verify.INT8_MIN_SQNR_DB,
                "min_cosine": verify.INT8_MIN_COSINE,
                "min_top1_agreement": verify.INT8_MIN_TOP1_AGREEMENT if info.trained else None}
    tol = verify.FP16_REL_TOL if target.precision == "fp16" else verify.FP32_REL_TOL
    return {"rule": "fp32", "max_rel_diff": tol}


_CHECK_METRICS = ("logit_scale", "max_abs_diff", "max_rel_diff", "sqnr_db", "min_cosine",
                  "top1_agreement")


def write_check(path: Path, target, info, config,
                inputs: list[torch.Tensor], reference: list[torch.Tensor],
                verification: dict) -> dict:
    """Write ``target``'s check file to ``path`` (a temporary); returns the sidecar's ``check``
    entry: the file's name, sha256, shapes, rule and the metrics the export measured."""
    thresholds = _check_thresholds(target, info, verification)
    data = CheckData(torch.cat([x.detach() for x in inputs]).numpy(),
                     torch.cat([r.detach().reshape(1, -1) for r in reference]).numpy(),
                     **thresholds)
    size = write_check_file(path, data)
    if config.quantize == "int8" and config.calibration_dir is not None:
        source = f"{len(inputs)} images spread over the calibration folder"
    else:
        source = f"the {len(inputs) - 1} bundled photos and one seeded Gaussian input"
    measured = verification.get("status") == "passed"
    return {"file": check_path(target.path).name, "format": CHECK_FORMAT,
            "sha256": sidecars.sha256_file(path), "size_bytes": size, "inputs": len(inputs),
            "input_shape": data.input_shape, "output_shape": data.output_shape,
            "source": source, **thresholds,
            "metrics": {k: verification.get(k) for k in _CHECK_METRICS} if measured else None}
