"""The export pipeline shared by every target: plan the artifacts, build the model once, write
each artifact atomically, verify it in its own runtime against eager PyTorch, write its sidecar.

Two ways in: ``export(ExportConfig(...), formats)`` builds a registered network or a factory of
the user's own (what ``coordatt-export`` does); ``export_model(module, ...)`` takes an eval-mode
``nn.Module`` the caller already has. Artifacts are named
``<name>[_<width>]_<backend>_<precision>[_<H>x<W>].<ext>`` (the width for registered networks or
when given, the size when it is not 224x224), e.g. ``mobilenetv2_ca_100_xnnpack_fp32.pte``, each
with ``<artifact>.json`` (docs/formats.md).
"""

from __future__ import annotations

import os
import secrets
import shutil
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import nn

from .._quiet import quiet
from ..check_file import SUFFIX as CHECK_SUFFIX
from ..check_file import check_path
from ..errors import ExportError, PartialExport, require
from ..model_source import is_factory_spec, load_factory, spec_name
from ..preprocess import list_images, load_image, sample_images, spread
from ..registry import check_model_args
from . import sidecar as sidecars
from .check_files import write_check
from .int8_recipe import DEFAULT_INT8_RECIPE, INT8_RECIPES
from .output_dir import (
    check_output_dir,
    locked,
    remove_empty,
    remove_stale_temporaries,
    signals_deferred,
)
from .placement import commit, recover
from .subject import ModelInfo, check_capture, prepare_from_config, prepare_module, safe_name

__all__ = ["ExportConfig", "ExportResult", "Target", "plan", "export", "export_model",
           "build_export_model", "check_output_dir", "FORMATS", "INT8_FORMATS", "QUANTIZE"]

FORMATS = ("pte", "onnx", "tflite", "coreml", "all")
# the formats with an int8 path (--format all --quantize int8 writes these)
INT8_FORMATS = ("pte", "onnx", "tflite")
QUANTIZE = ("none", "int8")
PTE_BACKENDS = ("xnnpack", "portable")
COREML_PRECISIONS = ("fp16", "fp32")
_EXTRAS = {"pte": ("executorch", ["executorch.exir", "executorch.runtime", "torchao"]),
           "onnx": ("onnx", ["onnx", "onnxruntime", "onnxscript"]),
           "tflite": ("litert", ["litert_torch", "ai_edge_litert.interpreter"]),
           "coreml": ("coreml", ["coremltools"])}


@dataclass(frozen=True)
class ExportConfig:
    """What to export; field names mirror ``coordatt-export``'s flags.

    ``model`` is a registry name or a factory ``pkg.module:callable``; ``width_mult`` None means
    the model's default (1.0 for registered networks); ``num_classes`` None means the
    checkpoint's (or the model's default); ``labels`` a labels file (default: ImageNet's names
    for 1000 classes, else ``class_N``); ``mean``/``std``/``crop_pct`` override the model's
    preprocessing; ``name`` the artifacts' name prefix (default: the model's name).
    """

    model: str = "mobilenetv2_ca"
    width_mult: float | None = None
    input_size: tuple[int, int] = (224, 224)
    weights: Path | None = None
    num_classes: int | None = None
    labels: Path | None = None
    name: str | None = None
    mean: tuple[float, float, float] | None = None
    std: tuple[float, float, float] | None = None
    crop_pct: float | None = None
    quantize: str = "none"
    calibration_dir: Path | None = None
    int8_recipe: str = DEFAULT_INT8_RECIPE  # the .pte's int8 recipe: ca-aware or xnnpack
    backend: str = "xnnpack"
    coreml_precision: str = "fp16"
    output_dir: Path = Path("artifacts")
    verify: bool = True
    overwrite: bool = False


@dataclass(frozen=True)
class Target:
    """One artifact to write."""

    format: str  # pte | onnx | tflite | coreml
    backend: str  # xnnpack | portable | onnx | litert | mlprogram
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


def artifact_stem(name: str, width_mult: float | None, backend: str, precision: str,
                  input_size: tuple[int, int]) -> str:
    width = "" if width_mult is None else f"_{round(width_mult * 100):03d}"
    size = "" if tuple(input_size) == (224, 224) else f"_{input_size[0]}x{input_size[1]}"
    return f"{name}{width}_{backend}_{precision}{size}"


def _validate_settings(config: ExportConfig, formats: Sequence[str]) -> None:
    """The settings that do not depend on where the model comes from."""
    if str(config.output_dir).strip() == "":  # Path("") is the current folder: say so instead
        raise ValueError("--output-dir is empty; name a folder (\".\" for the current one)")
    if isinstance(formats, str) or not formats:
        raise ValueError(f"formats must be a list of names from {', '.join(FORMATS)}")
    for fmt in formats:
        if fmt not in FORMATS:
            raise ValueError(f"unknown format {fmt!r}; choose from {', '.join(FORMATS)}")
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
        if config.backend != "xnnpack" and ("pte" in formats or "all" in formats):
            raise ValueError("int8 needs --backend xnnpack (the portable kernels run fp32 only)")
        if "all" not in formats and (no_int8 := [f for f in formats if f not in INT8_FORMATS]):
            raise ValueError(f"--quantize int8 has no path for --format {', '.join(no_int8)}; "
                             f"int8 is for {', '.join(INT8_FORMATS)} (or all)")
    if config.int8_recipe not in INT8_RECIPES:
        raise ValueError(f"unknown int8 recipe {config.int8_recipe!r}; choose from "
                         f"{', '.join(INT8_RECIPES)}")
    if config.calibration_dir is not None:
        if config.quantize != "int8":
            raise ValueError("--calibration-dir is used by --quantize int8 only")
        # a missing or empty folder fails before any work
        list_images(config.calibration_dir, recursive=True)
    if config.name is not None and (cleaned := safe_name(config.name)) != config.name:
        # the user's own prefix is used as given or refused, never silently rewritten
        raise ValueError(f"bad artifact name {config.name!r}: use at most 80 letters, digits, "
                         f"_ . - (e.g. {cleaned!r})")


def validate(config: ExportConfig, formats: Sequence[str]) -> None:
    """Raise ValueError naming the valid choices for any bad setting."""
    _validate_settings(config, formats)
    if is_factory_spec(config.model):
        load_factory(config.model)  # a factory that does not import fails before any work
    else:
        check_model_args(config.model, 1.0 if config.width_mult is None else config.width_mult)
    if config.num_classes is not None and (isinstance(config.num_classes, bool)
                                           or not 1 <= int(config.num_classes) <= 100_000):
        raise ValueError(f"num_classes must be in 1..100000, got {config.num_classes!r}")


def _targets(name: str, width_mult: float | None, config: ExportConfig,
             formats: Sequence[str]) -> list[Target]:
    int8 = config.quantize == "int8"
    if "all" in formats:
        wanted = list(INT8_FORMATS) if int8 else ["pte", "onnx", "tflite", "coreml"]
    else:
        wanted = list(dict.fromkeys(formats))
    out = Path(config.output_dir)
    targets = []
    for fmt in wanted:
        precision = "int8" if int8 else "fp32"
        if fmt == "pte":
            backend, ext = config.backend, ".pte"
        elif fmt == "onnx":
            backend, ext = "onnx", ".onnx"
        elif fmt == "tflite":
            backend, ext = "litert", ".tflite"
        else:
            backend, precision, ext = "mlprogram", config.coreml_precision, ".mlpackage"
        stem = artifact_stem(name, width_mult, backend, precision, config.input_size)
        targets.append(Target(fmt, backend, precision, out / f"{stem}{ext}"))
    return targets


def _width_for_name(config: ExportConfig) -> float | None:
    if is_factory_spec(config.model):
        return config.width_mult
    return 1.0 if config.width_mult is None else float(config.width_mult)


def plan(config: ExportConfig, formats: Sequence[str]) -> list[Target]:
    """The artifacts that ``formats`` asks for, in export order."""
    validate(config, formats)
    name = safe_name(config.name or spec_name(config.model))
    return _targets(name, _width_for_name(config), config, formats)


def check_backends(targets: list[Target]) -> None:
    """Fail before any work when a backend a target needs is not installed."""
    for target in targets:
        extra, modules = _EXTRAS[target.format]
        for module in modules:
            require(module, extra)


def build_export_model(config: ExportConfig) -> tuple[nn.Module, dict]:
    """The eval-mode model an export of ``config`` holds, and its sidecar ``weights`` entry: the
    checkpoint, or the seeded random-init stand-in (bn_stats.numeric_standin)."""
    info = prepare_from_config(config)
    return info.model, info.weights


# int8 exports calibrated on a folder are verified on this many of its images: the model's own
# domain (a shapes or flowers classifier's int8 agreement on ImageNet photos means little)
DOMAIN_VERIFICATION_IMAGES = 8


def _verification_inputs(info: ModelInfo, config: ExportConfig) -> list[torch.Tensor]:
    """The fixed verification batch: the bundled photos and one seeded Gaussian input; for int8
    with a calibration folder, images spread over that folder instead."""
    if config.quantize == "int8" and config.calibration_dir is not None:
        files = spread(list_images(config.calibration_dir, recursive=True),
                       DOMAIN_VERIFICATION_IMAGES)
        return [load_image(p, info.preprocess) for p in files]
    inputs = [load_image(p, info.preprocess) for p in sample_images()]
    inputs.append(torch.randn(1, 3, *info.input_size, generator=torch.Generator().manual_seed(0)))
    return inputs


def export(config: ExportConfig, formats: Sequence[str], *, verbose: bool = False,
           progress: bool = True) -> list[ExportResult]:
    """Export ``formats`` as ``config`` says; returns one result per artifact, in order.

    Raises ValueError for bad settings, MissingBackend for a backend not installed,
    CheckpointError for weights that do not fit, ExportError when an output cannot be written,
    an existing file would be overwritten, the model cannot be captured or a verification fails
    (then no artifact is left behind).
    """
    targets = plan(config, formats)
    with quiet(verbose):  # importing the backends prints their noise
        check_backends(targets)
    created = check_output_dir(Path(config.output_dir))
    try:
        info = prepare_from_config(config)  # fast: bad weights or labels fail before any output
        return _export_prepared(info, config, targets, verbose=verbose, progress=progress)
    except BaseException:
        remove_empty(created)  # a failed export leaves no folder it made behind
        raise


def export_model(model: nn.Module, *, input_size: tuple[int, int] = (224, 224),
                 formats: Sequence[str] = ("pte",),
                 labels: Sequence[str] | str | Path | None = None,
                 preprocess: dict | None = None, name: str | None = None,
                 output_dir: str | os.PathLike = "artifacts", quantize: str = "none",
                 calibration_dir: str | os.PathLike | None = None, backend: str = "xnnpack",
                 coreml_precision: str = "fp16", verify: bool = True, overwrite: bool = False,
                 trained: bool = True, verbose: bool = False,
                 progress: bool = True) -> list[ExportResult]:
    """Export an eval-mode ``nn.Module`` you already have, verified like the registered networks.

    Args:
        model: the network, in eval mode; it takes float32 [1, 3, H, W] and returns [1, K] logits.
        input_size: (H, W) of the artifacts' static input.
        formats: from ``FORMATS`` ("pte", "onnx", "tflite", "coreml", "all").
        labels: K class names (a list, or a labels file); default ImageNet's for K = 1000, else
            ``class_0``...
        preprocess: ``{"mean": (r, g, b), "std": (r, g, b), "crop_pct": 0.875}``, over what the
            model declares in ``pretrained_cfg`` (timm's convention), over ImageNet's.
        name: the artifacts' name prefix (default: the class name, lowercased).
        trained: judge int8 top-1 agreement (meaningless on untrained weights).

    The rest as :class:`ExportConfig`. Returns one :class:`ExportResult` per artifact.
    """
    config = ExportConfig(
        model="module", input_size=tuple(input_size), name=name, quantize=quantize,
        calibration_dir=None if calibration_dir is None else Path(calibration_dir),
        backend=backend, coreml_precision=coreml_precision,
        output_dir=Path(output_dir) if str(output_dir).strip() else output_dir,
        verify=verify, overwrite=overwrite)
    _validate_settings(config, formats)
    info = prepare_module(model, config.input_size, labels=labels, preprocess=preprocess,
                          name=name, trained=trained)
    targets = _targets(info.name, None, config, formats)
    with quiet(verbose):
        check_backends(targets)
    created = check_output_dir(Path(config.output_dir))
    try:
        return _export_prepared(info, config, targets, verbose=verbose, progress=progress)
    except BaseException:
        remove_empty(created)
        raise


def _export_prepared(info: ModelInfo, config: ExportConfig, targets: list[Target], *,
                     verbose: bool, progress: bool) -> list[ExportResult]:
    identity = info.identity(config.quantize, config.calibration_dir, config.int8_recipe)
    folder = Path(config.output_dir)
    with locked(folder):
        # what killed exports left: said even when this export is refused just below
        for note in recover(folder):  # before the temporaries go: it needs some of them
            warnings.warn(note, UserWarning, stacklevel=3)
        if stale := remove_stale_temporaries(folder):
            warnings.warn(f"removed {len(stale)} temporaries left in {folder} by interrupted "
                          f"exports: {', '.join(stale[:3])}{' ...' if len(stale) > 3 else ''}",
                          UserWarning, stacklevel=3)
        for target in targets:  # fail early; checked again at each artifact's commit
            sidecars.check_overwrite(target.path, identity, config.overwrite)
    check_finite_state(info.model)
    example = torch.zeros(1, 3, *info.input_size)
    with quiet(verbose):
        # a model torch.export cannot capture fails here, before any file is written
        info.exported = check_capture(info.model, example)
    # the verification batch; with --no-verify too: it goes into every check file
    check_inputs = _verification_inputs(info, config)
    inputs = check_inputs if config.verify else []
    with torch.no_grad():
        reference = [info.model(x) for x in check_inputs]
        check_finite_outputs([info.model(example), *reference])

    results: list[ExportResult] = []
    failures: list[str] = []
    for target in targets:
        try:
            results.append(_export_one(target, info, config, identity, folder, example, inputs,
                                       check_inputs, reference, verbose=verbose,
                                       progress=progress))
        except ExportError as e:
            if len(targets) == 1:
                raise
            # one format that cannot be made (an operator LiteRT cannot lower, a failed
            # verification) does not cost the others: they are written, and it is reported
            failures.append(str(e) if str(e).startswith(target.path.name)
                            else f"{target.path.name}: {e}")
    if failures:
        raise PartialExport(results, failures)
    return results


def _export_one(target: Target, info: ModelInfo, config: ExportConfig, identity: dict,
                folder: Path, example: torch.Tensor, inputs: list[torch.Tensor],
                check_inputs: list[torch.Tensor], reference: list[torch.Tensor], *,
                verbose: bool, progress: bool) -> ExportResult:
    """Produce, verify and commit one artifact with its check file and sidecar."""
    from . import targets as target_impl  # the per-format modules import heavy backends lazily

    start = time.monotonic()
    # the pid tells a later run whether its writer is gone (output_dir.py); the token keeps
    # two exports of one process (threads) apart
    tmp = target.path.with_name(f".tmp-{os.getpid()}-{secrets.token_hex(4)}-"
                                f"{target.path.name}")
    tmp_check = tmp.with_name(tmp.name + CHECK_SUFFIX)
    tmp_sidecar = None
    try:
        report, verification = target_impl.produce(
            target, tmp, info, example, config, inputs, reference,
            verbose=verbose, progress=progress)
        if verification.get("status") == "failed":
            raise ExportError(f"{target.path.name}: verification failed: "
                              f"{verification['message']}")
        check = write_check(tmp_check, target, info, config, check_inputs, reference,
                            verification)
        seconds = time.monotonic() - start
        doc = sidecars.make_sidecar(target, config, info, identity, tmp, report,
                                    verification, seconds)
        doc["artifact"] = target.path.name
        doc["check"] = check
        sidecar_path = sidecars.sidecar_path(target.path)
        tmp_sidecar = sidecars.write_json_temporary(sidecar_path, doc)
        with locked(folder), signals_deferred():  # another export may have written here
            for note in recover(folder):  # one killed while this one ran
                warnings.warn(note, UserWarning, stacklevel=4)
            sidecars.check_overwrite(target.path, identity, config.overwrite)
            # artifact first, sidecar last (the record that makes the pair ours), through a
            # journal that the next run completes if this process is killed (placement.py)
            commit([(tmp, target.path), (tmp_check, check_path(target.path)),
                    (tmp_sidecar, sidecar_path)])
    finally:
        if tmp.exists():
            shutil.rmtree(tmp) if tmp.is_dir() else tmp.unlink()
        tmp_check.unlink(missing_ok=True)
        if tmp_sidecar is not None:
            tmp_sidecar.unlink(missing_ok=True)
    return ExportResult(target, sidecar_path, doc["size_bytes"], seconds, report,
                        verification)


def check_finite_state(model: nn.Module) -> None:
    """ExportError naming the first parameter or buffer holding NaN/Inf."""
    for key, value in model.state_dict().items():
        if value.is_floating_point() and not bool(torch.isfinite(value).all()):
            raise ExportError(f"the model's tensor {key} holds NaN/Inf values; nothing exported")


def check_finite_outputs(outputs: list[torch.Tensor]) -> None:
    """ExportError when eager PyTorch's own outputs hold NaN/Inf: no artifact could match them."""
    for out in outputs:
        if not bool(torch.isfinite(out).all()):
            raise ExportError("the model's outputs in eager PyTorch hold NaN/Inf values (on the "
                              "zero input or a verification image); nothing exported")
