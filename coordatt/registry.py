"""Model names -> builders: ``create_model`` and ``list_models``, as in timm."""

from __future__ import annotations

import os
from collections.abc import Callable

from torch import nn

from .mobilenetv2 import MobileNetV2

__all__ = ["create_model", "list_models", "WIDTH_MULTS"]

# the width multipliers of the MobileNetV2 paper; 1.0 is the one with an official CA checkpoint
WIDTH_MULTS = (0.35, 0.5, 0.75, 1.0, 1.3, 1.4)

_MODELS: dict[str, Callable[..., nn.Module]] = {
    "mobilenetv2_ca": lambda **kw: MobileNetV2(coord_att=True, **kw),
    "mobilenetv2": lambda **kw: MobileNetV2(coord_att=False, **kw),
}


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
    reduction: int = 32,
    weights: str | os.PathLike | None = None,
) -> nn.Module:
    """Build a model by name, optionally loading a checkpoint.

    Args:
        name: one of :func:`list_models` ("mobilenetv2_ca", "mobilenetv2").
        width_mult: channel multiplier, one of ``WIDTH_MULTS``.
        num_classes: classifier size (1000 for ImageNet).
        reduction: CoordAtt reduction ratio r (ignored by "mobilenetv2").
        weights: path to a checkpoint: the official ``mbv2_ca.pth`` layout, this package's own
            state_dict, or either as ``.safetensors``. None keeps the official random init.

    Returns the model in eval mode when weights are loaded, in train mode otherwise (as timm).
    """
    check_model_args(name, width_mult)
    kwargs = {"width_mult": float(width_mult), "num_classes": num_classes}
    if name == "mobilenetv2_ca":
        kwargs["reduction"] = reduction
    model = _MODELS[name](**kwargs)
    if weights is not None:
        from .checkpoints import load_checkpoint

        load_checkpoint(model, weights)
        model.eval()
    return model
