"""The trained test network (tests/trained.py) exported once per test run for the evaluation and
check-file tests: fp32 to every format, int8 to every format with an int8 path (calibrated on 3
training images a class), with its labels. Built under a file lock in the run's cache folder, so
tests/test_eval.py and tests/test_check_files.py on two xdist workers share one export.

LiteRT formats are included when the LiteRT exporter and runtime are installed.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
from pathlib import Path

__all__ = ["exported_for_eval", "NAME", "FP32_FORMATS", "INT8_FORMATS"]

NAME = "shapes_ca"
CALIBRATION_PER_CLASS = 3


def _litert() -> bool:
    return all(importlib.util.find_spec(m) is not None
               for m in ("litert_torch", "ai_edge_litert")) and \
        (Path(__file__).parents[1] / "coordatt" / "export" / "litert.py").exists()


FP32_FORMATS = ["pte", "onnx", "coreml"] + (["tflite"] if _litert() else [])
INT8_FORMATS = ["pte", "onnx"] + (["tflite"] if _litert() else [])


def _calibration(trained_net, folder: Path) -> Path:
    """CALIBRATION_PER_CLASS training images of each class: PT2E calibration costs ~1 s an
    image on a busy 2-core machine, and 200 images calibrate this network no better."""
    import shutil

    out = folder / "calibration"
    for label in trained_net.labels:
        (out / label).mkdir(parents=True, exist_ok=True)
        for image in sorted((trained_net.data_dir / "train" / label).glob("*.png"))[
                :CALIBRATION_PER_CLASS]:
            shutil.copy(image, out / label / image.name)
    return out


def exported_for_eval(trained_net, cache_root: Path) -> Path:
    """The folder of the trained network's artifacts (sidecars and check files beside them)."""
    from filelock import FileLock

    from coordatt.export.pipeline import ExportConfig, export

    key = hashlib.sha256(json.dumps([str(trained_net.checkpoint), FP32_FORMATS, INT8_FORMATS])
                         .encode()).hexdigest()[:10]
    folder = Path(cache_root) / f"coordatt-eval-artifacts-{key}"
    folder.mkdir(parents=True, exist_ok=True)
    out = folder / "artifacts"
    done = folder / "done.json"
    with FileLock(str(folder / ".lock")):
        if not done.exists():
            common = dict(model=trained_net.model_name, width_mult=trained_net.width_mult,
                          input_size=trained_net.input_size, weights=trained_net.checkpoint,
                          labels=trained_net.labels_path, name=NAME, output_dir=out,
                          overwrite=True)
            export(ExportConfig(**common), FP32_FORMATS, progress=False)
            export(ExportConfig(**common, quantize="int8",
                                calibration_dir=_calibration(trained_net, folder)),
                   INT8_FORMATS, progress=False)
            tmp = done.with_suffix(".tmp")
            tmp.write_text(json.dumps({"fp32": FP32_FORMATS, "int8": INT8_FORMATS}))
            os.replace(tmp, done)
    return out
