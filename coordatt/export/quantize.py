"""Post-training int8 quantization for XNNPACK through PT2E (per-channel symmetric weights).

(CoordAtt in the recipe's formulation) -> torch.export -> prepare_pt2e(XNNPACKQuantizer, or a
CA-aware recipe on top of it, see int8_recipe.py) -> calibrate -> convert_pt2e -> torch.export.
In torch 2.13 the PT2E entry points live in torchao (``torch.ao.quantization.quantize_pt2e`` is
gone).
"""

from __future__ import annotations

import os
import warnings

import torch
from torch import nn

from ..errors import require
from ..preprocess import list_images, load_image, spread
from .int8_recipe import DEFAULT_INT8_RECIPE, make_quantizer, recipe_model

__all__ = ["quantize_int8", "calibration_inputs", "MAX_CALIBRATION_IMAGES"]

MAX_CALIBRATION_IMAGES = 200


def calibration_inputs(
    folder: str | os.PathLike | None, preprocess: dict, *, n_generated: int = 16
) -> tuple[list[torch.Tensor], str]:
    """[1, 3, H, W] calibration inputs and a description of where they came from.

    From the JPEG/PNG images in ``folder`` and its subfolders (one a class, as a training set
    is laid out; at most MAX_CALIBRATION_IMAGES, spread evenly over the sorted paths),
    preprocessed as the model expects; without a folder, generated data (smooth random images,
    normalised like photos), with a warning: activation ranges from such data fit real photos
    poorly, and int8 accuracy suffers.
    """
    if folder is not None:
        files = spread(list_images(folder, recursive=True), MAX_CALIBRATION_IMAGES)
        return [load_image(p, preprocess) for p in files], f"{len(files)} images from {folder}"
    warnings.warn(
        "int8: no --calibration-dir, calibrating on generated data; accuracy will suffer. "
        "Pass a folder of a few hundred representative photos.",
        UserWarning,
        stacklevel=2,
    )
    g = torch.Generator().manual_seed(0)
    h, w = preprocess["crop"]
    mean = torch.tensor(preprocess["mean"]).view(1, 3, 1, 1)
    std = torch.tensor(preprocess["std"]).view(1, 3, 1, 1)
    inputs = []
    for _ in range(n_generated):
        coarse = torch.rand(1, 3, max(2, h // 16), max(2, w // 16), generator=g)
        pixels = torch.nn.functional.interpolate(coarse, size=(h, w), mode="bilinear")
        inputs.append((pixels - mean) / std)
    return inputs, f"{n_generated} generated images (no calibration folder)"


def quantize_int8(
    model: nn.Module, example: torch.Tensor, calibration: list[torch.Tensor],
    *, recipe: str = DEFAULT_INT8_RECIPE,
) -> torch.export.ExportedProgram:
    """Quantize an eval-mode model for XNNPACK with an int8 recipe (see int8_recipe.py);
    returns the exported quantized program."""
    require("torchao", "executorch")
    from torchao.quantization.pt2e.quantize_pt2e import convert_pt2e, prepare_pt2e

    quantizer = make_quantizer(recipe)
    model = recipe_model(model, example, recipe)
    graph = torch.export.export(model, (example,), strict=True).module()
    prepared = prepare_pt2e(graph, quantizer)
    with torch.no_grad():
        for x in calibration:
            prepared(x)
    converted = convert_pt2e(prepared)
    return torch.export.export(converted, (example,), strict=True)
