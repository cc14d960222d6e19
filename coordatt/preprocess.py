"""Image preprocessing, as the model expects and as every artifact's sidecar records it.

Resize uniformly (bilinear) to the smallest size covering ``resize`` = crop / 0.875, center-crop
to the input's H x W, scale to [0, 1], normalise with the ImageNet mean/std, NCHW RGB float32.
The Android app reads the same recipe from the sidecar; it is never copied into code elsewhere.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np
import torch

from .errors import check_folder
from .mobilenetv2 import IMAGENET_MEAN, IMAGENET_STD

__all__ = ["preprocess_config", "load_image", "list_images", "spread", "sample_images",
           "CROP_PCT"]

CROP_PCT = 0.875  # 224 / 256, the standard ImageNet evaluation crop
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")
_SAMPLES = Path(__file__).parent / "data" / "images"


def preprocess_config(input_size: tuple[int, int], *, mean=IMAGENET_MEAN, std=IMAGENET_STD,
                      crop_pct: float = CROP_PCT) -> dict:
    """The sidecar's ``preprocess`` entry for an [H, W] input (ImageNet's mean/std and crop by
    default; a model may declare its own). ValueError for values that cannot be a recipe."""
    h, w = input_size
    mean, std = [float(v) for v in mean], [float(v) for v in std]
    if len(mean) != 3 or len(std) != 3:
        raise ValueError(f"mean and std need 3 values (R, G, B), got {mean} and {std}")
    if not all(math.isfinite(v) for v in mean) or not all(math.isfinite(v) and v > 0 for v in std):
        raise ValueError(f"mean must be finite and std positive, got {mean} and {std}")
    if not (isinstance(crop_pct, (int, float)) and 0.1 <= crop_pct <= 1.0):
        raise ValueError(f"crop_pct must be in 0.1..1.0, got {crop_pct!r}")
    return {
        "resize": [round(h / crop_pct), round(w / crop_pct)],
        "crop": [h, w],
        "scale": 1 / 255,
        "mean": mean,
        "std": std,
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


def list_images(folder: str | os.PathLike, *, recursive: bool = False) -> list[Path]:
    """JPEG and PNG files in ``folder`` (and its subfolders when ``recursive``, e.g. one folder a
    class), sorted by path; ValueError if the folder is missing, not a folder, or has none."""
    folder = check_folder(folder, "image folder")
    found = folder.rglob("*") if recursive else folder.iterdir()
    try:  # is_file follows symlinks: a FIFO or a device named .jpg is never listed, never read
        files = sorted(p for p in found if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
    except OSError as e:
        raise ValueError(f"cannot read image folder {folder}: {e.strerror or e}") from None
    if not files:
        where = f"{folder} or its subfolders" if recursive else str(folder)
        raise ValueError(f"no .jpg/.jpeg/.png images in {where}")
    return files


def spread(items: list, n: int) -> list:
    """At most ``n`` of ``items``, evenly spaced (every class of a sorted class-folder tree)."""
    if len(items) <= n:
        return list(items)
    return [items[i * len(items) // n] for i in range(n)]


def sample_images() -> list[Path]:
    """The freely licensed photos shipped with the package (see data/images/ATTRIBUTION.md)."""
    return list_images(_SAMPLES)
