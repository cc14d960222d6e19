"""A trained MobileNetV2-CA for the tests, built once per test run and shared by xdist workers.

Random networks are chaotic (see coordatt/bn_stats.py): int8 and accuracy checks on them mean
little. This fine-tunes MobileNetV2-CA 0.35x at 48x48 from the official random init on the
synthetic ten-class set of :mod:`coordatt.train.synthetic` (40 train + 20 val PNGs a class) with
:func:`coordatt.train.train`, and asserts its validation accuracy (``MIN_VAL_ACC``).

Measured on 2 cores (1 torch thread): 29 s of CPU; wall time 43 s at a machine load of ~4.7,
77 s beside the other xdist worker with two more jobs busy; val accuracy 0.925, the same on every
run (seeded data, init, order and augmentation; one thread). The first worker to ask builds it
under a file lock in a cache folder beside the workers' temp folders (the run's own folder under
xdist); the others wait, then read ``trained.json``.

Use it through the ``trained_net`` fixture (tests/conftest.py)::

    def test_something(trained_net):
        model = trained_net.load()                 # eval mode, best checkpoint
        x = ...[1, 3, *trained_net.input_size]
        trained_net.labels[model(x).argmax()]
        trained_net.data_dir / "val" / "circle"    # the images it was validated on
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from filelock import FileLock
from torch import nn

import coordatt

__all__ = ["TrainedNet", "RECIPE", "MIN_VAL_ACC", "CALIBRATION_PER_CLASS", "get_trained_net",
           "get_trained_artifacts", "trained_artifact"]

MIN_VAL_ACC = 0.80  # of 10 classes (chance 0.10); measured 0.925
RECIPE = {  # coordatt.train.TrainConfig fields; a change rebuilds (the cache key hashes it)
    "model": "mobilenetv2_ca", "width_mult": 0.35, "input_size": [48, 48], "epochs": 8,
    "batch_size": 16, "lr": 4e-3, "warmup_epochs": 0.3, "crop_scale": [0.5, 1.0], "seed": 0,
    "threads": 1,  # the other xdist worker has the other core
}
DATA = {"train_per_class": 40, "val_per_class": 20, "size": 56, "seed": 0}
# int8 artifacts calibrate on this many training images a class (PT2E's observers cost ~0.5 s an
# image on 2 busy cores: 30 images, not the folder's 400)
CALIBRATION_PER_CLASS = 3
ARTIFACT_NAME = "shapes_ca"


@dataclass(frozen=True)
class TrainedNet:
    """A fine-tuned network on disk: everything the export, eval and bench tests need."""

    model_name: str  # registry name, for coordatt.create_model
    width_mult: float
    input_size: tuple[int, int]  # H, W it was trained and validated at
    num_classes: int
    checkpoint: Path  # .safetensors, a plain state_dict of the model with its 10-class classifier
    labels_path: Path  # labels.txt: one class name a line, class-index order
    labels: list[str]
    data_dir: Path  # train/<class>/*.png and val/<class>/*.png
    val_acc: float  # top-1 on data_dir/val, at input_size, coordatt.preprocess recipe
    summary: Path  # the training run's JSON summary (history, settings)
    build_seconds: float  # wall time of the build (by whichever worker built it)

    @property
    def val_dir(self) -> Path:
        return self.data_dir / "val"

    def load(self) -> nn.Module:
        """A fresh copy of the trained model, in eval mode."""
        return coordatt.create_model(self.model_name, width_mult=self.width_mult,
                                     num_classes=self.num_classes, weights=self.checkpoint).eval()

    def calibration_subset(self, folder: Path, per_class: int) -> Path:
        """``folder`` filled with the first ``per_class`` training images of each class, laid out
        like the training folder: an int8 calibration set. PT2E's histogram observers cost
        ~0.5 s an image on 2 busy cores, so tests calibrate on a few images a class, not 200."""
        for label in self.labels:
            (folder / label).mkdir(parents=True, exist_ok=True)
            for image in sorted((self.data_dir / "train" / label).glob("*.png"))[:per_class]:
                shutil.copy(image, folder / label / image.name)
        return folder

    def val_images(self, per_class: int = 1) -> list[Path]:
        """The first ``per_class`` validation images of each class, in class order."""
        return [p for c in self.labels
                for p in sorted((self.val_dir / c).glob("*.png"))[:per_class]]


def _build(folder: Path) -> dict:
    from coordatt.train import TrainConfig, train, write_synthetic_dataset

    start = time.perf_counter()
    data = write_synthetic_dataset(folder / "data", **DATA)
    config = TrainConfig(data=data, output_dir=folder / "run", overwrite=True,
                         **{k: tuple(v) if isinstance(v, list) else v for k, v in RECIPE.items()})
    result = train(config, progress=False)
    return {"model_name": result.model_name, "width_mult": result.width_mult,
            "input_size": list(result.input_size), "num_classes": result.num_classes,
            "checkpoint": str(result.checkpoint), "labels_path": str(result.labels),
            "labels": result.classes, "data_dir": str(data), "val_acc": result.best_val_acc,
            "summary": str(result.summary), "build_seconds": time.perf_counter() - start}


def _folder(cache_root: Path) -> Path:
    key = hashlib.sha256(json.dumps([RECIPE, DATA], sort_keys=True).encode()).hexdigest()[:10]
    return Path(cache_root) / f"coordatt-trained-{key}"


def get_trained_net(cache_root: Path) -> TrainedNet:
    """The trained network under ``cache_root``, built there first if no one has yet."""
    folder = _folder(cache_root)
    folder.mkdir(parents=True, exist_ok=True)
    record = folder / "trained.json"
    with FileLock(str(folder / ".lock")):
        if not record.exists():
            info = _build(folder)
            tmp = record.with_suffix(".tmp")
            tmp.write_text(json.dumps(info, indent=2), encoding="utf-8")
            os.replace(tmp, record)
    info = json.loads(record.read_text(encoding="utf-8"))
    net = TrainedNet(**{**info, "input_size": tuple(info["input_size"]),
                        **{k: Path(info[k]) for k in ("checkpoint", "labels_path", "data_dir",
                                                      "summary")}})
    assert net.val_acc >= MIN_VAL_ACC, (
        f"the test network reached val accuracy {net.val_acc:.1%} < {MIN_VAL_ACC:.0%}; "
        f"see {net.summary}")
    return net



def get_trained_artifacts(net: TrainedNet, cache_root: Path) -> Path:
    """The trained network exported once per run as a user exports it, shared by the eval,
    own-model flow, int8, LiteRT and ONNX int8 tests: ``coordatt-export --format all`` (.pte,
    .onnx, .tflite, .mlpackage), then ``--quantize int8`` (.pte; .onnx and .tflite) calibrated
    on ``calibration/``, ``CALIBRATION_PER_CLASS`` training images a class, all named
    ``shapes_ca_035_*_48x48`` with the labels file. Three commands, three steps of about the same
    length (artifact_cache.build_once): two workers asking at once share them. Read only."""
    from artifact_cache import build_once

    from coordatt.export.cli import main as export_main

    folder = _folder(cache_root) / "exported"
    out = folder / "artifacts"
    size = f"{net.input_size[0]}x{net.input_size[1]}"
    common = ["--model", net.model_name, "--width-mult", str(net.width_mult), "--input-size",
              size, "--weights", str(net.checkpoint), "--labels", str(net.labels_path),
              "--name", ARTIFACT_NAME, "--output-dir", str(out)]

    def cli(*args: str) -> None:
        code = export_main([*args, *common])
        if code != 0:
            raise RuntimeError(f"coordatt-export {' '.join(args)} exited {code}")

    def int8(formats: str) -> Callable[[], None]:
        def run() -> None:
            calibration = folder / "calibration"  # the same for both steps: one identity
            with FileLock(str(folder / ".calibration.lock")):
                if not calibration.exists():
                    tmp = folder / f".calibration-{os.getpid()}"
                    net.calibration_subset(tmp, CALIBRATION_PER_CLASS)
                    os.replace(tmp, calibration)
            cli("--format", formats, "--quantize", "int8", "--calibration-dir", str(calibration))
        return run

    build_once(folder, {"fp32": lambda: cli("--format", "all"), "int8-pte": int8("pte"),
                        "int8-onnx-tflite": int8("onnx,tflite")})
    return out


def trained_artifact(folder: Path, backend: str, precision: str) -> Path:
    """One artifact of :func:`get_trained_artifacts`' folder, e.g. ("litert", "int8")."""
    ext = {"xnnpack": "pte", "onnx": "onnx", "litert": "tflite", "mlprogram": "mlpackage"}
    width = round(RECIPE["width_mult"] * 100)
    h, w = RECIPE["input_size"]
    return folder / f"{ARTIFACT_NAME}_{width:03d}_{backend}_{precision}_{h}x{w}.{ext[backend]}"
