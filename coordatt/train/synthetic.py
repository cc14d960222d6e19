"""A small procedurally drawn image set with real labels, for tests and demos of fine-tuning.

Ten classes, each a shape or texture (circle, square, ..., stripes, checkerboard, dots) drawn in a
class hue (jittered) at a random place and size on a noisy background of random colour. Shape and
colour both carry the label, so a small MobileNetV2-CA learns it from scratch in under a minute on
a CPU (see tests/trained.py for the measured accuracy); horizontal flips keep every class a class
(no left/right-handed shapes). Everything follows from ``seed``: same seed, same PNG bytes.
"""

from __future__ import annotations

import colorsys
import os
import random
from pathlib import Path

import numpy as np

__all__ = ["CLASSES", "draw_example", "write_synthetic_dataset"]

CLASSES = ("checker", "circle", "cross", "diamond", "dots", "hstripes", "ring", "square",
           "triangle", "vstripes")  # sorted, so folder order = class index


def _colour(hue: float, rng: random.Random) -> tuple[int, int, int]:
    h = (hue + rng.uniform(-0.02, 0.02)) % 1.0
    r, g, b = colorsys.hsv_to_rgb(h, rng.uniform(0.8, 1.0), rng.uniform(0.8, 1.0))
    return round(r * 255), round(g * 255), round(b * 255)


def _background(size: int, rng: random.Random):
    from PIL import Image

    base = np.array(colorsys.hsv_to_rgb(rng.random(), rng.uniform(0, 0.2), rng.uniform(0.1, 0.45)))
    noise = np.random.default_rng(rng.getrandbits(32)).normal(0, 0.06, (size, size, 3))
    pixels = np.clip((base + noise) * 255, 0, 255).astype(np.uint8)
    return Image.fromarray(pixels, "RGB")


def draw_example(label: int, size: int = 72, rng: random.Random | None = None):
    """One RGB ``size`` x ``size`` PIL image of class ``CLASSES[label]``."""
    from PIL import ImageDraw

    if not 0 <= label < len(CLASSES):
        raise ValueError(f"label must be in 0..{len(CLASSES) - 1}, got {label}")
    rng = rng or random.Random(0)
    im = _background(size, rng)
    draw = ImageDraw.Draw(im)
    fg = _colour(label / len(CLASSES), rng)
    r = size * rng.uniform(0.28, 0.42)  # half the object's extent
    cx, cy = (size / 2 + rng.uniform(-0.1, 0.1) * size for _ in range(2))
    box = (cx - r, cy - r, cx + r, cy + r)
    kind = CLASSES[label]
    stroke = max(2, round(r / 4))
    if kind == "circle":
        draw.ellipse(box, fill=fg)
    elif kind == "ring":
        draw.ellipse(box, outline=fg, width=stroke)
    elif kind == "square":
        draw.rectangle(box, fill=fg)
    elif kind == "diamond":
        draw.polygon([(cx, cy - r), (cx + r, cy), (cx, cy + r), (cx - r, cy)], fill=fg)
    elif kind == "triangle":
        draw.polygon([(cx, cy - r), (cx + r, cy + r), (cx - r, cy + r)], fill=fg)
    elif kind == "cross":
        draw.rectangle((cx - stroke, cy - r, cx + stroke, cy + r), fill=fg)
        draw.rectangle((cx - r, cy - stroke, cx + r, cy + stroke), fill=fg)
    elif kind in ("hstripes", "vstripes"):
        period = rng.randint(6, 10)
        for k in range(-1, size // period + 1):
            a = k * period + rng.randint(0, 1)
            band = (0, a, size, a + period // 2) if kind == "hstripes" else (a, 0, a + period // 2,
                                                                                 size)
            draw.rectangle(band, fill=fg)
    elif kind == "checker":
        cell = rng.randint(7, 11)
        for i in range(size // cell + 1):
            for j in range(i % 2, size // cell + 1, 2):
                x, y = i * cell, j * cell
                draw.rectangle((x, y, x + cell - 1, y + cell - 1), fill=fg)
    else:  # dots
        for _ in range(rng.randint(8, 14)):
            x, y, d = rng.uniform(0, size), rng.uniform(0, size), rng.uniform(3, 5)
            draw.ellipse((x - d, y - d, x + d, y + d), fill=fg)
    return im


def write_synthetic_dataset(root: str | os.PathLike, *, train_per_class: int = 60,
                            val_per_class: int = 20, size: int = 72, seed: int = 0) -> Path:
    """Write ``root/train/<class>/*.png`` and ``root/val/<class>/*.png`` (``val_per_class`` 0:
    only class folders directly under ``root``); returns ``root``."""
    if train_per_class < 1 or val_per_class < 0:
        raise ValueError(f"need train_per_class >= 1 and val_per_class >= 0, got "
                         f"{train_per_class}, {val_per_class}")
    root = Path(root)
    rng = random.Random(seed)
    splits = [("train", train_per_class), ("val", val_per_class)] if val_per_class else [
        ("", train_per_class)]
    for split, count in splits:
        for label, name in enumerate(CLASSES):
            folder = root / split / name
            folder.mkdir(parents=True, exist_ok=True)
            for i in range(count):
                draw_example(label, size, rng).save(folder / f"{name}_{i:04d}.png", optimize=False)
    return root
