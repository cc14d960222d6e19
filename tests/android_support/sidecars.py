"""Sidecars, artifact folders and check files for tests/test_android_compile.py: the documented
sidecar (docs/formats.md) as coordatt-export writes it, variants the app must accept or reject,
and check files written by coordatt's own encoder."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
IMAGENET_LABELS = ROOT / "coordatt" / "data" / "imagenet_labels.txt"
SIDECAR_V1 = "coordatt.artifact/1"
SIDECAR_V2 = "coordatt.artifact/2"
# A fine-tuned model's own classes: any UTF-8, in class-index order.
FLOWERS = ["daisy", "dandelion", "rose", "sunflower", "tulip", "iris", "lotus", "cerisier (桜)",
           "orchid", "ромашка"]  # fmt: skip


def documented_json(title: str) -> dict:
    """The JSON example under a docs/formats.md heading, its // comments removed."""
    text = (ROOT / "docs" / "formats.md").read_text()
    start = text.index("```json", text.index(title)) + len("```json")
    block = text[start : text.index("```", start)]
    return json.loads(re.sub(r"\s//[^\n]*", "", block))


def imagenet_names() -> list[str]:
    return IMAGENET_LABELS.read_text(encoding="utf-8").splitlines()


def sidecar_v2() -> dict:
    """The documented sidecar as coordatt-export writes it for an ImageNet model (schema /2, the
    1000 names inline), whatever the example in docs/formats.md abbreviates."""
    sidecar = documented_json("## Artifact sidecar")
    sidecar.update(
        schema=SIDECAR_V2,
        name="mobilenetv2_ca",
        num_classes=1000,
        labels=imagenet_names(),
        labels_source="imagenet-1k",
    )
    sidecar["output"] = {**sidecar.get("output", {}), "shape": [1, 1000]}
    return sidecar


def sidecar_v1() -> dict:
    """A sidecar of the first schema: labels named a list ("imagenet-1k") instead of holding it."""
    sidecar = sidecar_v2()
    for key in ("name", "labels_source"):
        del sidecar[key]
    sidecar.update(schema=SIDECAR_V1, labels="imagenet-1k")
    return sidecar


def flowers_sidecar(labels: list[str] = FLOWERS, output_classes: int = 10) -> dict:
    """A user's own network: a factory spec, no width, 10 classes with their own names."""
    sidecar = sidecar_v2()
    sidecar.update(
        model="flowers_pkg.nets:build_flowers",
        name="flowers_ca",
        width_mult=None,
        num_classes=10,
        labels=labels,
        labels_source="file",
    )
    sidecar["output"]["shape"] = [1, output_classes]
    return sidecar


def write_artifact(folder: Path, name: str, base: dict | None = None, **changes) -> dict:
    sidecar = base if base is not None else sidecar_v2()
    sidecar["artifact"] = name
    for key, value in changes.items():
        sidecar[key] = value
    (folder / name).write_bytes(b"not a real model")
    # raw UTF-8 here, \u escapes (json's default, as coordatt-export writes) elsewhere
    (folder / f"{name}.json").write_text(
        json.dumps(sidecar, ensure_ascii=name.startswith("mobilenet")), encoding="utf-8"
    )
    return sidecar


def artifact_folder(folder: Path) -> None:
    folder.mkdir(exist_ok=True)
    write_artifact(folder, "mobilenetv2_ca_100_xnnpack_fp32.pte")
    write_artifact(folder, "mobilenetv2_ca_100_xnnpack_int8.pte", precision="int8")
    write_artifact(folder, "mobilenetv2_ca_100_portable_fp32.pte", backend="portable")
    write_artifact(
        folder,
        "mobilenetv2_ca_100.onnx",
        format="onnx",
        backend="onnx",
        weights={"pretrained": True, "source": "mbv2_ca.pth", "sha256": None},
    )
    write_artifact(folder, "mobilenetv2_ca_100_int8.onnx", format="onnx", backend="onnx",
                    precision="int8")
    write_artifact(folder, "mobilenetv2_ca_100.tflite", format="tflite", backend="litert")
    write_artifact(folder, "mobilenetv2_ca_100_int8.tflite", format="tflite", backend="litert",
                    precision="int8")
    write_artifact(folder, "mobilenetv2_ca_100_fp16.onnx", format="coreml", backend="mlprogram")
    write_artifact(folder, "renamed.pte", artifact="something_else.pte")
    write_artifact(folder, "zz_schema.pte", schema="coordatt.artifact/99")
    write_artifact(folder, "mobilenetv2_ca_050_xnnpack_fp32.pte", sidecar_v1(), width_mult=0.5)
    write_artifact(folder, "flowers_ca_xnnpack_fp32.pte", flowers_sidecar())
    write_artifact(folder, "zz_labels_short.pte", flowers_sidecar(labels=FLOWERS[:9]))
    write_artifact(folder, "zz_labels_name.pte", flowers_sidecar(labels=[*FLOWERS[:9], 9]))
    write_artifact(folder, "zz_labels_string.pte", labels="imagenet-1k")
    write_artifact(folder, "zz_output_shape.pte", flowers_sidecar(output_classes=1000))
    (folder / "zz_no_sidecar.onnx").write_bytes(b"x")
    (folder / "notes.txt").write_text("not a model")


def model_files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.suffix in (".pte", ".onnx", ".tflite"))


def check_file(path: Path, inputs, expected, **thresholds) -> str:
    """A check file written by coordatt's own encoder; returns its sha256."""
    np = pytest.importorskip("numpy")
    from coordatt.check_file import CheckData, encode

    blob = encode(CheckData(np.asarray(inputs, np.float32), np.asarray(expected, np.float32),
                            **thresholds))
    path.write_bytes(blob)
    return hashlib.sha256(blob).hexdigest()


def tiny_sidecar(name: str, fmt: str, backend: str, k: int = 4, **changes) -> dict:
    """A 4-class network on [1, 3, 2, 2] inputs: check files and scripted outputs stay small."""
    sidecar = flowers_sidecar(labels=["ant", "bee", "cat", "dog"], output_classes=k)
    sidecar.update(num_classes=k, format=fmt, backend=backend, **changes)
    sidecar["input"] = {**sidecar["input"], "shape": [1, 3, 2, 2]}
    sidecar["preprocess"] = {**sidecar["preprocess"], "resize": [2, 2], "crop": [2, 2]}
    sidecar["check"] = {**sidecar["check"], "file": f"{name}.check.bin"}
    return sidecar
