"""Fake phones for the Android tests: tests/fake_adb/adb on PATH, its storage in a temporary
folder, and a folder of artifacts with sidecars and check files as coordatt-export writes them.

A test module makes its fixtures from :func:`make_phone` and :func:`make_artifacts`.
"""

import hashlib
import json
import os
import sys
from pathlib import Path

import pytest

from coordatt.bench.android import RunSettings

__all__ = ["ARTIFACTS", "FAKE_ADB_DIR", "FakePhones", "LABELS", "PREPROCESS", "RUNTIMES",
           "make_artifacts", "make_phone", "quick"]

FAKE_ADB_DIR = Path(__file__).parent
LABELS = ["cat", "dog", "fox"]
ARTIFACTS = (  # name, format, backend, precision, with a check file
    ("mobilenetv2_ca_100_xnnpack_fp32.pte", "pte", "xnnpack", "fp32", True),
    ("mobilenetv2_ca_100_xnnpack_int8.pte", "pte", "xnnpack", "int8", True),
    ("mobilenetv2_ca_100_onnx_fp32.onnx", "onnx", "onnx", "fp32", False),
    ("mobilenetv2_ca_100_litert_fp32.tflite", "tflite", "litert", "fp32", True),
)
RUNTIMES = ["executorch-xnnpack", "executorch-xnnpack-int8", "litert", "onnxruntime",
            "onnxruntime-xnnpack"]
PREPROCESS = {"resize": [36, 36], "crop": [32, 32], "scale": 1 / 255,
              "mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225]}


class FakePhones:
    def __init__(self, root: Path, monkeypatch: pytest.MonkeyPatch):
        self.root = root
        self.monkeypatch = monkeypatch

    def mode(self, mode: str, **per_serial: str) -> "FakePhones":
        self.monkeypatch.setenv("FAKE_ADB_MODE", mode)
        self.monkeypatch.setenv("FAKE_ADB_MODES", ",".join(f"{s}={m}"
                                                           for s, m in per_serial.items()))
        return self

    def serials(self, *serials: str) -> "FakePhones":
        self.monkeypatch.setenv("FAKE_ADB_SERIALS", ",".join(serials))
        return self

    def calls(self) -> list[list[str]]:
        log = self.root / "adb_calls.jsonl"
        return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []

    def shell_calls(self, serial: str = "FAKE0001") -> list[str]:
        return [c[3] for c in self.calls() if c[:3] == ["-s", serial, "shell"]]

    def storage(self, serial: str = "FAKE0001") -> Path:
        return self.root / serial

    def state(self, name: str, serial: str = "FAKE0001") -> str | None:
        path = self.root / serial / "state" / name
        return path.read_text() if path.exists() else None


def make_phone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FakePhones:
    root = tmp_path / "phone"
    root.mkdir()
    # the fake's `#!/usr/bin/env -S python3 -S` must find this interpreter first
    path = os.pathsep.join([str(FAKE_ADB_DIR), str(Path(sys.executable).parent)])
    monkeypatch.setenv("PATH", path + os.pathsep + os.environ.get("PATH", ""))
    monkeypatch.setenv("FAKE_ADB_ROOT", str(root))
    monkeypatch.delenv("FAKE_ADB_SERIALS", raising=False)
    monkeypatch.delenv("ANDROID_HOME", raising=False)
    monkeypatch.delenv("ANDROID_SDK_ROOT", raising=False)
    return FakePhones(root, monkeypatch).mode("ok")


def make_artifacts(tmp_path: Path) -> list[Path]:
    folder = tmp_path / "artifacts"
    folder.mkdir()
    paths = []
    for name, fmt, backend, precision, with_check in ARTIFACTS:
        path = folder / name
        path.write_bytes(b"\x00model bytes " + name.encode())
        sidecar = {
            "schema": "coordatt.artifact/2", "artifact": name, "format": fmt,
            "model": "mobilenetv2_ca", "name": "mobilenetv2_ca", "width_mult": 1.0,
            "num_classes": 3, "backend": backend, "precision": precision,
            "input": {"name": "image", "shape": [1, 3, 32, 32], "dtype": "float32"},
            "output": {"name": "logits", "shape": [1, 3], "dtype": "float32"},
            "preprocess": PREPROCESS, "labels": LABELS, "labels_source": "file",
            "identity": {"model": "mobilenetv2_ca", "input_size": [32, 32]},
        }
        if with_check:
            check = folder / (name + ".check.bin")
            check.write_bytes(b"COORDCHK" + name.encode())
            sidecar["check"] = {"file": check.name, "format": "coordatt.check/1",
                                "sha256": hashlib.sha256(check.read_bytes()).hexdigest()}
        path.with_name(name + ".json").write_text(json.dumps(sidecar))
        paths.append(path)
    mlpackage = folder / "mobilenetv2_ca_100_mlprogram_fp16.mlpackage"
    (mlpackage / "Data").mkdir(parents=True)
    return [*paths, mlpackage]


def quick(**kw) -> RunSettings:
    return RunSettings(**{"iters": 4, "warmup": 0, "threads": 1, **kw})
