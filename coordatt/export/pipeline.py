"""The export pipeline shared by every target: plan the artifacts, build the model once, write
each artifact atomically, verify it in its own runtime against eager PyTorch, write its sidecar.

Artifacts are named ``<model>_<width>_<backend>_<precision>[_<H>x<W>].<ext>`` (the size only when
it is not 224x224), e.g. ``mobilenetv2_ca_100_xnnpack_fp32.pte``, each with ``<artifact>.json``
(docs/formats.md).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch

from .._quiet import quiet
from ..bn_stats import numeric_standin
from ..errors import ExportError, require
from ..preprocess import list_images, load_image, preprocess_config, sample_images
from ..registry import check_model_args, create_model
from . import sidecar as sidecars

__all__ = ["ExportConfig", "ExportResult", "Target", "plan", "export", "build_export_model",
           "FORMATS", "QUANTIZE"]

FORMATS = ("pte", "onnx", "coreml", "all")
QUANTIZE = ("none", "int8")
PTE_BACKENDS = ("xnnpack", "portable")
COREML_PRECISIONS = ("fp16", "fp32")
_EXTRAS = {"pte": ("executorch", ["executorch.exir", "executorch.runtime", "torchao"]),
           "onnx": ("onnx", ["onnx", "onnxruntime", "onnxscript"]),
           "coreml": ("coreml", ["coremltools"])}


@dataclass(frozen=True)
class ExportConfig:
    """What to export; field names mirror ``coordatt-export``'s flags."""

    model: str = "mobilenetv2_ca"
    width_mult: float = 1.0
    input_size: tuple[int, int] = (224, 224)
    weights: Path | None = None
    quantize: str = "none"
    calibration_dir: Path | None = None
    backend: str = "xnnpack"
    coreml_precision: str = "fp16"
    output_dir: Path = Path("artifacts")
    verify: bool = True
    overwrite: bool = False


@dataclass(frozen=True)
class Target:
    """One artifact to write."""

    format: str  # pte | onnx | coreml
    backend: str  # xnnpack | portable | onnx | mlprogram
    precision: str  # fp32 | int8 | fp16
    path: Path


@dataclass
class ExportResult:
    target: Target
    sidecar_path: Path
    size_bytes: int
    seconds: float
    report: dict = field(default_factory=dict)
    verification: dict = field(default_factory=dict)


def artifact_stem(model: str, width_mult: float, backend: str, precision: str,
                  input_size: tuple[int, int]) -> str:
    size = "" if tuple(input_size) == (224, 224) else f"_{input_size[0]}x{input_size[1]}"
    return f"{model}_{round(width_mult * 100):03d}_{backend}_{precision}{size}"


def validate(config: ExportConfig, formats: list[str]) -> None:
    """Raise ValueError naming the valid choices for any bad setting."""
    for fmt in formats:
        if fmt not in FORMATS:
            raise ValueError(f"unknown format {fmt!r}; choose from {', '.join(FORMATS)}")
    check_model_args(config.model, config.width_mult)
    h, w = config.input_size
    if not (32 <= h <= 2048 and 32 <= w <= 2048):
        raise ValueError(f"input size {h}x{w} is out of range; H and W must be in 32..2048")
    if config.quantize not in QUANTIZE:
        raise ValueError(f"unknown quantization {config.quantize!r}; choose from none, int8")
    if config.backend not in PTE_BACKENDS:
        raise ValueError(f"unknown backend {config.backend!r}; choose from xnnpack, portable")
    if config.coreml_precision not in COREML_PRECISIONS:
        raise ValueError(
            f"unknown Core ML precision {config.coreml_precision!r}; choose from fp16, fp32")
    if config.quantize == "int8":
        if config.backend != "xnnpack":
            raise ValueError("int8 needs --backend xnnpack (the portable kernels run fp32 only)")
        if "all" not in formats and "pte" not in formats:
            raise ValueError("int8 quantization is for --format pte (XNNPACK) or all")
    if config.calibration_dir is not None:
        if config.quantize != "int8":
            raise ValueError("--calibration-dir is used by --quantize int8 only")
        list_images(config.calibration_dir)  # a missing or empty folder fails before any work


def plan(config: ExportConfig, formats: list[str]) -> list[Target]:
    """The artifacts that ``formats`` asks for, in export order."""
    validate(config, formats)
    wanted = ["pte", "onnx", "coreml"] if "all" in formats else list(dict.fromkeys(formats))
    out = Path(config.output_dir)
    targets = []
    for fmt in wanted:
        if fmt == "pte":
            precision = "int8" if config.quantize == "int8" else "fp32"
            backend, ext = config.backend, ".pte"
        elif fmt == "onnx":
            backend, precision, ext = "onnx", "fp32", ".onnx"
        else:
            backend, precision, ext = "mlprogram", config.coreml_precision, ".mlpackage"
        stem = artifact_stem(config.model, config.width_mult, backend, precision, config.input_size)
        targets.append(Target(fmt, backend, precision, out / f"{stem}{ext}"))
    return targets


def check_backends(targets: list[Target]) -> None:
    """Fail before any work when a backend a target needs is not installed."""
    for target in targets:
        extra, modules = _EXTRAS[target.format]
        for module in modules:
            require(module, extra)


def check_output_dir(folder: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".coordatt-probe-"):
            pass
    except OSError as e:
        raise ExportError(f"cannot write to output folder {folder}: {e.strerror or e}") from None


def build_export_model(config: ExportConfig) -> tuple[torch.nn.Module, dict]:
    """The eval-mode model an export of ``config`` holds, and its sidecar ``weights`` entry: the
    checkpoint, or the seeded random-init stand-in (bn_stats.numeric_standin)."""
    with torch.random.fork_rng():  # the random init is seeded: the same export, the same bytes
        torch.manual_seed(0)
        model = create_model(config.model, width_mult=config.width_mult, weights=config.weights)
    if config.weights is not None:
        weights = {"pretrained": True, "source": str(config.weights),
                   "sha256": sidecars.sha256_file(Path(config.weights))}
    else:
        # random init has ~1e-12 logits that ignore the input, and int8 noise explodes in it:
        # make it a stand-in whose numerics behave like a trained network's (see bn_stats.py)
        images = [load_image(p, preprocess_config(config.input_size)) for p in sample_images()]
        numeric_standin(model, images)
        weights = {"pretrained": False,
                   "source": "random-init stand-in (BatchNorm shift +1, statistics estimated on "
                             "sample photos; see coordatt/bn_stats.py)",
                   "sha256": None}
    return model.eval(), weights


def _verification_inputs(config: ExportConfig) -> list[torch.Tensor]:
    """The fixed verification batch: the bundled photos, then one seeded Gaussian input."""
    pre = preprocess_config(config.input_size)
    inputs = [load_image(p, pre) for p in sample_images()]
    inputs.append(torch.randn(1, 3, *config.input_size, generator=torch.Generator().manual_seed(0)))
    return inputs


def export(config: ExportConfig, formats: list[str], *, verbose: bool = False,
           progress: bool = True) -> list[ExportResult]:
    """Export ``formats`` as ``config`` says; returns one result per artifact, in order.

    Raises ValueError for bad settings, MissingBackend for a backend not installed, ExportError
    when an output cannot be written, an existing file would be overwritten, or a verification
    fails (then no artifact is left behind).
    """
    from . import targets as target_impl  # the per-format modules import heavy backends lazily

    targets = plan(config, formats)
    with quiet(verbose):  # importing the backends prints their noise
        check_backends(targets)
    check_output_dir(Path(config.output_dir))
    identity = sidecars.identity_of(config)
    for target in targets:
        sidecars.check_overwrite(target.path, identity, config.overwrite)

    model, weights = build_export_model(config)  # fast: bad weights fail before any output
    inputs = _verification_inputs(config) if config.verify else []
    with torch.no_grad():
        reference = [model(x) for x in inputs]
    example = torch.zeros(1, 3, *config.input_size)

    results = []
    for target in targets:
        start = time.monotonic()
        tmp = target.path.with_name(f".tmp-{os.getpid()}-{target.path.name}")
        try:
            report, verification = target_impl.produce(
                target, tmp, model, example, config, inputs, reference,
                verbose=verbose, progress=progress)
            if verification.get("status") == "failed":
                raise ExportError(f"{target.path.name}: verification failed: "
                                  f"{verification['message']}")
            seconds = time.monotonic() - start
            doc = sidecars.make_sidecar(target, config, identity, weights, tmp, report,
                                        verification, seconds)
            doc["artifact"] = target.path.name
            # sidecar first: an artifact is never left without the sidecar that names it ours
            sidecar_path = sidecars.write_json_atomic(sidecars.sidecar_path(target.path), doc)
            sidecars.replace_path(tmp, target.path)
        finally:
            if tmp.exists():
                shutil.rmtree(tmp) if tmp.is_dir() else tmp.unlink()
        results.append(ExportResult(target, sidecar_path, doc["size_bytes"], seconds, report,
                                    verification))
    return results
