"""Image preprocessing, as the model expects and as every artifact's sidecar records it.

Resize uniformly (bilinear) to the smallest size covering ``resize`` = crop / 0.875, center-crop
to the input's H x W, scale to [0, 1], normalise with the ImageNet mean/std, NCHW RGB float32.
The Android app reads the same recipe from the sidecar; it is never copied into code elsewhere.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch

from .mobilenetv2 import IMAGENET_MEAN, IMAGENET_STD

__all__ = ["preprocess_config", "load_image", "list_images", "sample_images", "CROP_PCT"]

CROP_PCT = 0.875  # 224 / 256, the standard ImageNet evaluation crop
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")
_SAMPLES = Path(__file__).parent / "data" / "images"


def preprocess_config(input_size: tuple[int, int]) -> dict:
    """The sidecar's ``preprocess`` entry for an [H, W] input."""
    h, w = input_size
    return {
        "resize": [round(h / CROP_PCT), round(w / CROP_PCT)],
        "crop": [h, w],
        "scale": 1 / 255,
        "mean": list(IMAGENET_MEAN),
        "std": list(IMAGENET_STD),
    }


def load_image(path: str | os.PathLike, config: dict) -> torch.Tensor:
    """Read an image file and preprocess it by ``config`` into float32 [1, 3, H, W]."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as im:
            im = im.convert("RGB")
            rh, rw = config["resize"]
            s = max(rh / im.height, rw / im.width)  # cover the resize box, keep the aspect
            im = im.resize((max(rw, round(im.width * s)), max(rh, round(im.height * s))),
                           Image.BILINEAR)
            ch, cw = config["crop"]
            top, left = (im.height - ch) // 2, (im.width - cw) // 2
            im = im.crop((left, top, left + cw, top + ch))
            pixels = np.asarray(im, dtype=np.float32)
    except (OSError, UnidentifiedImageError) as e:
        raise ValueError(f"cannot read image {path}: {e}") from None
    x = pixels * np.float32(config["scale"])
    x = (x - np.asarray(config["mean"], np.float32)) / np.asarray(config["std"], np.float32)
    return torch.from_numpy(np.ascontiguousarray(x.transpose(2, 0, 1)))[None]


def list_images(folder: str | os.PathLike) -> list[Path]:
    """JPEG and PNG files in ``folder`` (not recursive), sorted; ValueError if there are none."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ValueError(f"image folder not found: {folder}")
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise ValueError(f"no .jpg/.jpeg/.png images in {folder}")
    return files


def sample_images() -> list[Path]:
    """The freely licensed photos shipped with the package (see data/images/ATTRIBUTION.md)."""
    return list_images(_SAMPLES)
