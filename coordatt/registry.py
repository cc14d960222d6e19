"""Model names -> builders: ``create_model`` and ``list_models``, as in timm.

Every network is a family with an attention slot; a name fixes the family and the attention (the
Coordinate Attention paper's Table 5 rows), keyword arguments tune the rest.
"""

from __future__ import annotations

import os
from collections.abc import Callable

from torch import nn

from .mobilenetv2 import MobileNetV2
from .mobilenext import MobileNeXt

__all__ = ["create_model", "list_models", "model_kwargs", "WIDTH_MULTS"]

# the width multipliers of the MobileNetV2 paper; 1.0 is the one with an official CA checkpoint
WIDTH_MULTS = (0.35, 0.5, 0.75, 1.0, 1.3, 1.4)

_FAMILIES = {"mobilenetv2": MobileNetV2, "mobilenext": MobileNeXt}
_ATTN_SUFFIXES = {"": None, "_se": "se", "_cbam": "cbam", "_ca": "ca"}


def _builder(family: type[nn.Module], attn: str | None) -> Callable[..., nn.Module]:
    def build(**kw) -> nn.Module:
        return family(attn=attn, **kw)

    return build


_MODELS: dict[str, Callable[..., nn.Module]] = {
    family_name + suffix: _builder(family, attn)
    for family_name, family in _FAMILIES.items()
    for suffix, attn in _ATTN_SUFFIXES.items()
}
# settings a caller may pass through create_model's **kwargs; the attention ones only to models
# with attention
_NET_KWARGS = ("act", "dropout", "settings")
_ATTN_KWARGS = ("reduction", "attn_kwargs", "attn_blocks")


def model_kwargs(name: str) -> tuple[str, ...]:
    """The keyword arguments ``create_model(name, ...)`` accepts beyond the common ones."""
    has_attn = not name.endswith(tuple(_FAMILIES))
    return _NET_KWARGS + (_ATTN_KWARGS if has_attn else ())


def list_models() -> list[str]:
    """Names accepted by :func:`create_model`."""
    return sorted(_MODELS)


def check_model_args(name: str, width_mult: float) -> None:
    """Raise ValueError naming the valid choices for an unknown model name or width."""
    if name not in _MODELS:
        raise ValueError(f"unknown model {name!r}; choose from {', '.join(list_models())}")
    if isinstance(width_mult, bool) or not isinstance(width_mult, (int, float)) or (
        float(width_mult) not in WIDTH_MULTS
    ):
        raise ValueError(
            f"unsupported width_mult {width_mult!r}; choose from {', '.join(map(str, WIDTH_MULTS))}"
        )


def create_model(
    name: str,
    *,
    width_mult: float = 1.0,
    num_classes: int = 1000,
    weights: str | os.PathLike | None = None,
    **kwargs,
) -> nn.Module:
    """Build a model by name, optionally loading a checkpoint.

    Args:
        name: one of :func:`list_models`: "mobilenetv2" or "mobilenext", plain or with "_se",
            "_cbam" or "_ca" attention.
        width_mult: channel multiplier, one of ``WIDTH_MULTS``.
        num_classes: classifier size (1000 for ImageNet).
        weights: path to a checkpoint: the official ``mbv2_ca.pth`` layout (MobileNetV2 family),
            this package's own state_dict, or either as ``.safetensors``. None keeps the official
            random init.
        **kwargs: the network's settings (see :func:`model_kwargs`): ``act`` ("relu6" or
            "hswish"), ``dropout``, ``settings`` (the block table, architecture as data:
            ``INVERTED_RESIDUAL_SETTINGS`` / ``SANDGLASS_SETTINGS`` by default); with attention
            also ``reduction`` (CA 32, SE and CBAM 24 by default), ``attn_kwargs`` and
            ``attn_blocks`` ("default", "all" or block indices).

    Returns the model in eval mode when weights are loaded, in train mode otherwise (as timm).
    Every model has ``num_features``, ``forward_features``, ``get_classifier`` and
    ``reset_classifier``.
    """
    check_model_args(name, width_mult)
    valid = model_kwargs(name)
    unknown = sorted(set(kwargs) - set(valid))
    if unknown:
        raise ValueError(
            f"unknown argument {unknown[0]!r} for {name}; valid: width_mult, num_classes, "
            f"weights, {', '.join(valid)}"
        )
    model = _MODELS[name](width_mult=float(width_mult), num_classes=num_classes, **kwargs)
    if weights is not None:
        from .checkpoints import load_checkpoint

        load_checkpoint(model, weights)
        model.eval()
    return model
