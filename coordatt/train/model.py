"""The network to fine-tune: built by :func:`coordatt.model_source.build_model` (a registered
name or a ``module:callable`` factory) at the checkpoint's own class count, so the checkpoint loads
whole, then given a fresh classifier for the new classes."""

from __future__ import annotations

import os

from torch import nn

from ..model_source import build_model, find_classifier, output_classes, replace_classifier

__all__ = ["build_for_finetuning", "classifier_of", "replace_classifier"]


def classifier_of(model: nn.Module) -> nn.Module:
    """The classifier: ``get_classifier()`` (timm style) when present, else the last nn.Linear."""
    found = find_classifier(model)
    if found is None:
        raise ValueError(f"{type(model).__name__} has no nn.Linear classifier")
    return found[1]


def build_for_finetuning(model: str, *, num_classes: int, input_size: tuple[int, int],
                         width_mult: float | None = None,
                         weights: str | os.PathLike | None = None, seed: int = 0) -> nn.Module:
    """Build ``model``, load ``weights`` at the checkpoint's class count, replace the classifier
    when that differs from ``num_classes``; ValueError for a model that does not build or does
    not map a [1, 3, H, W] image to [1, num_classes] logits."""
    net = build_model(model, width_mult=width_mult, weights=weights, seed=seed,
                      num_classes=None if weights is not None else num_classes)
    if getattr(classifier_of(net), "out_features", None) != num_classes:
        replace_classifier(net, num_classes)
    got = output_classes(net, input_size)
    if got != num_classes:
        raise ValueError(f"{model} gives {got} outputs after its classifier was replaced, "
                         f"not {num_classes}")
    return net
