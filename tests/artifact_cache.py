"""Artifacts exported once per test run and shared by the xdist workers (as tests/trained.py
shares the trained network): lowering and calibration are most of the suite's time, and several
modules need the same (model, format, precision).

Each cache is a folder under the run's temporary folder, named by a hash of what produced it,
filled by *steps* (one export each). ``build_once`` runs every step once per run: a worker takes
the steps no other worker is running, then waits for the rest, so two workers that need the same
cache at the same time split it instead of one idling. A step that fails leaves no marker; the
next worker to need it tries again (and fails in its own test).

Two caches live here:

* ``tiny_artifacts``: conftest's three-block MobileNetV2-CA (every op kind of the full network)
  at 64x64 in every format, fp32 and int8 (calibrated on the bundled photos, as coordatt-bench
  exports it), and the portable .pte: the bench, runtime, check-file and pipeline tests.
* the trained network's artifacts: see :func:`trained.get_trained_artifacts`.

Tests that damage or add files work on a copy (``copy_artifacts``), never on the cache.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["TINY_SETTINGS", "TINY_SIZE", "run_root", "build_once", "tiny_registered",
           "tiny_artifacts", "copy_artifacts", "artifact_files"]

TINY_SETTINGS = ((1, 16, 1, 1), (6, 24, 2, 2))  # t, c, n, s: stem, t=1 block, CA blocks, residual
TINY_SIZE = (64, 64)


def run_root(tmp_path_factory) -> Path:
    """The run's temporary folder: under xdist the workers' folders are <run>/popen-gwN."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


def build_once(folder: Path, steps: dict[str, Callable[[], None]]) -> None:
    """Run each of ``steps`` once per run in ``folder`` (a file lock and a done marker each):
    first the steps no other process holds, then, blocking, the ones others are running."""
    from filelock import FileLock, Timeout

    folder.mkdir(parents=True, exist_ok=True)
    pending = list(steps)
    while pending:
        for name in pending:
            lock = FileLock(str(folder / f".{name}.lock"))
            try:
                lock.acquire(timeout=0)
                break
            except Timeout:
                continue
        else:  # every remaining step is being built elsewhere: wait for the first one
            name = pending[0]
            lock = FileLock(str(folder / f".{name}.lock"))
            lock.acquire()
        try:
            done = folder / f".{name}.done"
            if not done.exists():
                steps[name]()
                done.touch()
        finally:
            lock.release()
        pending.remove(name)


@contextmanager
def tiny_registered() -> Iterator[str]:
    """'tiny_ca' in the registry for the duration: MobileNetV2-CA with TINY_SETTINGS."""
    import pytest

    from coordatt import registry
    from coordatt.mobilenetv2 import MobileNetV2

    with pytest.MonkeyPatch.context() as mp:
        mp.setitem(registry._MODELS, "tiny_ca",
                   lambda **kw: MobileNetV2(coord_att=True, settings=TINY_SETTINGS, **kw))
        yield "tiny_ca"


def _key(*parts) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:10]


def tiny_artifacts(tmp_path_factory) -> Path:
    """The folder of tiny_ca's artifacts at 64x64, 1000 classes, seeded stand-in weights:
    ``tiny_ca_100_{xnnpack,portable}_fp32_64x64.pte``, ``..._onnx_fp32_64x64.onnx``,
    ``..._litert_fp32_64x64.tflite``, ``..._mlprogram_fp16_64x64.mlpackage`` and the int8
    .pte, .onnx and .tflite, each with its sidecar and check file. Exactly what
    ``coordatt-bench --models tiny_ca --input-size 64`` exports (int8 calibrated on the bundled
    photos), so the bench finds them all. Read only: copy before changing anything."""
    from coordatt.export.pipeline import ExportConfig, export
    from coordatt.preprocess import sample_images

    calibration = sample_images()[0].parent
    common = dict(model="tiny_ca", input_size=TINY_SIZE)
    folder = run_root(tmp_path_factory) / f"coordatt-tiny-{_key(TINY_SETTINGS, common)}"
    out = folder / "artifacts"

    def step(formats, **kw):
        def run():
            with tiny_registered():
                export(ExportConfig(**common, output_dir=out, **kw), formats, progress=False)
        return run

    litert = all(importlib.util.find_spec(m) is not None
                 for m in ("litert_torch", "ai_edge_litert"))
    int8 = dict(quantize="int8", calibration_dir=calibration)
    steps = {  # about the same time each (int8 .pte ~25 s on 2 busy cores)
        "fp32": step(["pte", "onnx", "tflite"] if litert else ["pte", "onnx"]),
        "int8-pte": step(["pte"], **int8),
        "int8-onnx+coreml+portable": lambda: (step(["onnx"], **int8)(), step(["coreml"])(),
                                              step(["pte"], backend="portable")()),
    }
    if litert:
        steps["int8-tflite"] = step(["tflite"], **int8)
    build_once(folder, steps)
    return out


def artifact_files(artifact: Path) -> list[Path]:
    """An artifact with its sidecar and check file."""
    return [artifact, artifact.with_name(artifact.name + ".json"),
            artifact.with_name(artifact.name + ".check.bin")]


def copy_artifacts(src: Path, dest: Path, keep: Callable[[str], bool] = lambda name: True
                   ) -> Path:
    """``dest`` with a copy of each artifact in ``src`` whose name ``keep`` accepts (with its
    sidecar and check file, timestamps kept)."""
    dest.mkdir(parents=True, exist_ok=True)
    for sidecar in sorted(src.glob("*.json")):
        artifact = sidecar.with_suffix("")
        if not keep(artifact.name):
            continue
        for path in artifact_files(artifact):
            if path.is_dir():
                shutil.copytree(path, dest / path.name)
            elif path.exists():
                shutil.copy2(path, dest / path.name)
    return dest
