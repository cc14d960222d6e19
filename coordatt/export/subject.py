"""What an export holds: the eval-mode model and everything its sidecar says about it.

A :class:`ModelInfo` is built either from a registry name or a factory plus a checkpoint
(``prepare_from_config``, what ``coordatt-export`` does) or from an ``nn.Module`` the caller
already has (``prepare_module``, what ``coordatt.export.export_model`` does). Everything after
that (artifacts, verification, sidecars) is the same for both.
"""

from __future__ import annotations

import hashlib
import re
import traceback
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from ..bn_stats import numeric_standin
from ..errors import ExportError
from ..labels import check_labels, default_labels, imagenet_labels, read_labels
from ..model_source import build_model, is_factory_spec, output_classes, spec_name
from ..preprocess import load_image, preprocess_config, sample_images
from . import sidecar as sidecars
from .int8_recipe import DEFAULT_INT8_RECIPE

__all__ = ["ModelInfo", "prepare_from_config", "prepare_module", "model_preprocess",
           "state_sha256", "check_capture", "safe_name"]

_NAME = re.compile(r"[^A-Za-z0-9_.-]+")


@dataclass
class ModelInfo:
    """An eval-mode model and what its artifacts' sidecars say about it."""

    model: nn.Module
    spec: str  # a registry name, "pkg.mod:fn", or "module:<Class>" for a caller's nn.Module
    name: str  # the artifacts' name prefix
    width_mult: float | None
    input_size: tuple[int, int]
    labels: list[str]
    labels_source: str  # imagenet-1k | file | list | generic
    preprocess: dict
    weights: dict  # the sidecar's weights entry: pretrained, source, sha256
    trained: bool  # int8 top-1 agreement is judged on trained weights only
    # the strict torch.export capture checked before any artifact is written, reused by the fp32
    # .pte lowering instead of capturing the same model again
    exported: torch.export.ExportedProgram | None = None

    @property
    def num_classes(self) -> int:
        return len(self.labels)

    def identity(self, quantize: str, calibration_dir, int8_recipe: str | None = None) -> dict:
        """What an artifact is exported from: the same identity, the same artifact. The int8
        recipe is part of it for int8 exports, so artifacts of two recipes never replace each
        other silently."""
        labels = hashlib.sha256("\n".join(self.labels).encode()).hexdigest()
        return {
            "model": self.spec, "name": self.name,
            "width_mult": None if self.width_mult is None else float(self.width_mult),
            "input_size": list(self.input_size), "num_classes": self.num_classes,
            "weights_sha256": self.weights["sha256"], "labels_sha256": labels,
            "preprocess": self.preprocess, "quantize": quantize,
            "calibration_dir": (str(Path(calibration_dir).resolve())
                                if calibration_dir else None),
            **({"int8_recipe": int8_recipe or DEFAULT_INT8_RECIPE} if quantize == "int8"
               else {}),
        }


def safe_name(name: str) -> str:
    """A file-name-safe artifact prefix; ValueError when nothing usable is left."""
    cleaned = _NAME.sub("_", name).strip("._-")
    if not cleaned:
        raise ValueError(f"bad artifact name {name!r}; use letters, digits, _ . -")
    return cleaned[:80]


def state_sha256(model: nn.Module) -> str:
    """sha256 over a model's state_dict (names, dtypes, shapes, bytes): what it computes."""
    digest = hashlib.sha256()
    for key, value in model.state_dict().items():
        t = value.detach().cpu().contiguous()
        digest.update(f"{key}:{t.dtype}:{tuple(t.shape)}\0".encode())
        digest.update(t.reshape(-1).view(torch.uint8).numpy().tobytes() if t.numel() else b"")
    return digest.hexdigest()


def model_preprocess(model: nn.Module, input_size: tuple[int, int],
                     override: dict | None = None) -> dict:
    """The preprocessing recipe: ``override`` (mean, std, crop_pct) over what the model declares
    in ``pretrained_cfg`` / ``default_cfg`` (timm's convention), over ImageNet's."""
    declared = getattr(model, "pretrained_cfg", None) or getattr(model, "default_cfg", None)
    settings: dict = {}
    if isinstance(declared, dict):
        settings.update({k: declared[k] for k in ("mean", "std", "crop_pct") if k in declared})
    settings.update({k: v for k, v in (override or {}).items() if v is not None})
    unknown = set(settings) - {"mean", "std", "crop_pct"}
    if unknown:
        raise ValueError(f"unknown preprocessing keys {sorted(unknown)}; use mean, std, crop_pct")
    return preprocess_config(input_size, **settings)


def _labels_for(num_classes: int, labels) -> tuple[list[str], str]:
    if labels is None:
        return default_labels(num_classes)
    if isinstance(labels, (str, Path)):
        return read_labels(labels, num_classes), "file"
    if not isinstance(labels, (str, bytes)) and list(labels) == imagenet_labels():
        return imagenet_labels(), "imagenet-1k"  # ImageNet's own list names two classes "crane"
    return check_labels(labels, num_classes), "list"


def prepare_from_config(config) -> ModelInfo:
    """Build the model an export of ``config`` (an ExportConfig) holds."""
    spec = config.model
    model = build_model(spec, width_mult=config.width_mult, num_classes=config.num_classes,
                        weights=config.weights)
    size = tuple(config.input_size)
    num_classes = output_classes(model, size)
    labels, labels_source = _labels_for(num_classes, config.labels)
    preprocess = model_preprocess(model, size, {"mean": config.mean, "std": config.std,
                                                "crop_pct": config.crop_pct})
    factory = is_factory_spec(spec)
    if config.weights is not None:
        weights = {"pretrained": True, "source": str(config.weights),
                   "sha256": sidecars.sha256_file(Path(config.weights))}
    elif factory:
        weights = {"pretrained": None, "source": f"built by {spec}",
                   "sha256": state_sha256(model)}
    else:
        # random init has ~1e-12 logits that ignore the input, and int8 noise explodes in it:
        # make it a stand-in whose numerics behave like a trained network's (see bn_stats.py)
        images = [load_image(p, preprocess) for p in sample_images()]
        numeric_standin(model, images)
        weights = {"pretrained": False,
                   "source": "random-init stand-in (BatchNorm shift +1, statistics estimated on "
                             "sample photos; see coordatt/bn_stats.py)",
                   "sha256": None}
    width = config.width_mult if factory else (1.0 if config.width_mult is None
                                                else float(config.width_mult))
    return ModelInfo(model.eval(), spec, safe_name(config.name or spec_name(spec)), width, size,
                     labels, labels_source, preprocess, weights, config.weights is not None)


def prepare_module(model: nn.Module, input_size: tuple[int, int], *, labels=None,
                   preprocess: dict | None = None, name: str | None = None,
                   trained: bool = True) -> ModelInfo:
    """Wrap a caller's eval-mode ``nn.Module``; its weights are identified by their sha256."""
    if not isinstance(model, nn.Module):
        raise ValueError(f"expected a torch.nn.Module, got {type(model).__name__}")
    if model.training:
        raise ValueError("the model is in training mode; call model.eval() before exporting")
    size = tuple(int(v) for v in input_size)
    num_classes = output_classes(model, size)
    label_list, labels_source = _labels_for(num_classes, labels)
    spec = f"module:{type(model).__module__}.{type(model).__qualname__}"
    weights = {"pretrained": None, "source": f"in-memory {type(model).__qualname__}",
               "sha256": state_sha256(model)}
    return ModelInfo(model, spec, safe_name(name or type(model).__name__.lower()), None, size,
                     label_list, labels_source, model_preprocess(model, size, preprocess),
                     weights, trained)


def _capture_error(e: BaseException) -> str:
    """The first line of a torch.export failure and the user-code line it points at."""
    text = str(e).strip()
    first = next((ln.strip() for ln in text.splitlines() if ln.strip()), type(e).__name__)
    where = re.findall(r'File "([^"]+)", line (\d+), in (\w+)', text)
    if not where:
        frames = [f for f in traceback.extract_tb(e.__traceback__)
                  if "site-packages" not in f.filename and "/torch/" not in f.filename]
        where = [(f.filename, str(f.lineno), f.name) for f in frames[-1:]]
    at = f" (at {Path(where[-1][0]).name}:{where[-1][1]}, in {where[-1][2]})" if where else ""
    return f"{first[:200]}{at}"


def check_capture(model: nn.Module, example: torch.Tensor) -> torch.export.ExportedProgram:
    """``torch.export`` the model (strict) before any artifact is written; ExportError naming
    the failing operator or line when it cannot be captured."""
    try:
        return torch.export.export(model, (example,), strict=True)
    except Exception as e:
        raise ExportError(f"torch.export cannot capture the model: {type(e).__name__}: "
                          f"{_capture_error(e)}; run with -v for the trace") from e

