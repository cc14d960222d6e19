"""Image folders for fine-tuning: class folders, a seeded train/val split, augmentation in PIL.

Layout (as torchvision's ImageFolder): ``DIR/<class>/**/*.jpg|png``, class index = position in the
sorted folder names, or ``DIR/train/<class>/`` and ``DIR/val/<class>/`` when both exist. Training
images get a random resized crop (Szegedy et al. 2015, torchvision's algorithm) and a horizontal
flip; validation images the evaluation recipe of :mod:`coordatt.preprocess`, so validation
accuracy is what an exported model sees. Unreadable images are skipped and counted, never fatal.
"""

from __future__ import annotations

import math
import os
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from ..mobilenetv2 import IMAGENET_MEAN, IMAGENET_STD
from ..preprocess import IMAGE_SUFFIXES, load_image, preprocess_config

__all__ = ["DatasetSplit", "ImageFolderDataset", "collate_skipping", "find_dataset",
           "scan_class_folders", "split_samples", "TrainImageLoader", "EvalImageLoader"]

Sample = tuple[Path, int]


@dataclass
class DatasetSplit:
    """Class names (index order), train and val samples, and the files skipped as unreadable."""

    classes: list[str]
    train: list[Sample]
    val: list[Sample]
    layout: str  # how val was chosen, for the summary
    skipped: list[Path] = field(default_factory=list)


def _is_image(p: Path) -> bool:
    return p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES and not p.name.startswith(".")


def _readable(path: Path) -> bool:
    """A cheap check (header and, for PNG, chunk checksums); truncated data can still fail later
    and is skipped then."""
    from PIL import Image

    try:
        with Image.open(path) as im:
            im.verify()
        return True
    except Exception:  # PIL raises many types for broken files
        return False


def _class_folders(folder: Path) -> list[Path]:
    if not folder.is_dir():
        raise ValueError(f"image folder not found or not a folder: {folder}")
    try:
        return sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))
    except OSError as e:
        raise ValueError(f"cannot read folder {folder}: {e.strerror}") from None


def scan_class_folders(folder: str | os.PathLike, classes: list[str] | None = None
                       ) -> tuple[list[str], list[Sample], list[Path]]:
    """Class names, (image, class index) samples and unreadable files under ``folder``.

    ``classes`` fixes the names and order (a val folder scanned against train's classes); a class
    folder of no readable image is a ValueError, as is a folder of fewer than two classes."""
    folder = Path(folder)
    found = {p.name: p for p in _class_folders(folder)}
    if classes is None:
        classes = sorted(found)
        if len(classes) < 2:
            raise ValueError(f"{folder} has {len(classes)} class folder(s); need at least 2 "
                             f"(one subfolder of images per class)")
    elif unknown := sorted(set(found) - set(classes)):
        raise ValueError(f"{folder} has class folders not in the training set: "
                         f"{', '.join(unknown[:3])}")
    samples, skipped = [], []
    for index, name in enumerate(classes):
        if name not in found:
            continue
        try:
            files = sorted(p for p in found[name].rglob("*") if _is_image(p))
        except OSError as e:
            raise ValueError(f"cannot read folder {found[name]}: {e.strerror}") from None
        readable = [_readable(p) for p in files]
        good = [p for p, ok in zip(files, readable) if ok]
        skipped += [p for p, ok in zip(files, readable) if not ok]
        if not good:
            raise ValueError(f"class folder {found[name]} has no readable "
                             f"{'/'.join(IMAGE_SUFFIXES)} image")
        samples += [(p, index) for p in good]
    return classes, samples, skipped


def split_samples(samples: list[Sample], val_fraction: float, seed: int
                  ) -> tuple[list[Sample], list[Sample]]:
    """A stratified, seeded split: round(val_fraction * n) of each class's n images go to val
    (at least one when the class has two or more), the rest to train; disjoint by construction."""
    if not 0 < val_fraction < 1:
        raise ValueError(f"val split must be between 0 and 1 (exclusive), got {val_fraction}")
    rng = random.Random(seed)
    train, val = [], []
    for label in sorted({y for _, y in samples}):
        members = [s for s in samples if s[1] == label]
        rng.shuffle(members)
        n_val = min(len(members) - 1, max(1, round(val_fraction * len(members))))
        val += members[:n_val]
        train += members[n_val:]
    return sorted(train), sorted(val)


def find_dataset(root: str | os.PathLike, val_split: float = 0.2, seed: int = 0) -> DatasetSplit:
    """Scan ``root``: ``train/`` + ``val/`` when both exist, else a seeded ``val_split``."""
    root = Path(root)
    if (root / "train").is_dir() and (root / "val").is_dir():
        classes, train, skipped = scan_class_folders(root / "train")
        _, val, skipped_val = scan_class_folders(root / "val", classes)
        layout = "train/ and val/ folders"
        skipped += skipped_val
    else:
        classes, samples, skipped = scan_class_folders(root)
        train, val = split_samples(samples, val_split, seed)
        layout = f"seeded split: {val_split:.0%} val, seed {seed}"
    if not val:
        raise ValueError(f"no validation images in {root}: add images or a val/ folder")
    return DatasetSplit(classes, train, val, layout, skipped)


def _normalise(pixels: np.ndarray) -> torch.Tensor:
    x = pixels.astype(np.float32) / 255
    x = (x - np.asarray(IMAGENET_MEAN, np.float32)) / np.asarray(IMAGENET_STD, np.float32)
    return torch.from_numpy(np.ascontiguousarray(x.transpose(2, 0, 1)))


def _crop_box(width: int, height: int, scale: tuple[float, float],
              ratio: tuple[float, float]) -> tuple[int, int, int, int]:
    """torchvision's RandomResizedCrop box (left, top, right, bottom), drawn from torch's RNG (so
    DataLoader workers are seeded) with a center-crop fallback."""
    area = width * height
    log_ratio = (math.log(ratio[0]), math.log(ratio[1]))
    for _ in range(10):
        target = area * float(torch.empty(1).uniform_(*scale))
        aspect = math.exp(float(torch.empty(1).uniform_(*log_ratio)))
        w, h = round(math.sqrt(target * aspect)), round(math.sqrt(target / aspect))
        if 0 < w <= width and 0 < h <= height:
            top = int(torch.randint(0, height - h + 1, (1,)))
            left = int(torch.randint(0, width - w + 1, (1,)))
            return left, top, left + w, top + h
    w, h = width, height  # fallback: the central crop within the ratio range
    if width / height < ratio[0]:
        h = round(width / ratio[0])
    elif width / height > ratio[1]:
        w = round(height * ratio[1])
    left, top = (width - w) // 2, (height - h) // 2
    return left, top, left + w, top + h


class TrainImageLoader:
    """path -> augmented float32 [3, H, W]: random resized crop (bilinear), horizontal flip,
    ImageNet normalisation. A class, not a closure, so DataLoader workers can unpickle it
    (spawn/forkserver start methods)."""

    def __init__(self, input_size: tuple[int, int], scale: tuple[float, float] = (0.08, 1.0),
                 ratio: tuple[float, float] = (3 / 4, 4 / 3), hflip: bool = True) -> None:
        self.input_size, self.scale, self.ratio, self.hflip = input_size, scale, ratio, hflip

    def __call__(self, path: Path) -> torch.Tensor:
        from PIL import Image

        h, w = self.input_size
        with Image.open(path) as im:
            im = im.convert("RGB")
            box = _crop_box(im.width, im.height, self.scale, self.ratio)
            im = im.resize((w, h), Image.BILINEAR, box=box)
        if self.hflip and torch.rand(1) < 0.5:
            im = im.transpose(Image.FLIP_LEFT_RIGHT)
        return _normalise(np.asarray(im))


class EvalImageLoader:
    """path -> float32 [3, H, W] by coordatt.preprocess (resize, center crop, normalise)."""

    def __init__(self, input_size: tuple[int, int]) -> None:
        self.config = preprocess_config(input_size)

    def __call__(self, path: Path) -> torch.Tensor:
        return load_image(path, self.config)[0]


class ImageFolderDataset(torch.utils.data.Dataset):
    """(image, label) samples read by ``load``; an unreadable image yields ``(None, label, path)``
    for :func:`collate_skipping` to drop and count."""

    def __init__(self, samples: list[Sample], load: Callable[[Path], torch.Tensor]) -> None:
        self.samples = samples
        self.load = load

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, i: int):
        path, label = self.samples[i]
        try:
            return self.load(path), label, str(path)
        except (OSError, ValueError, SyntaxError):  # PIL's errors for truncated/broken data
            return None, label, str(path)


def collate_skipping(batch) -> tuple[torch.Tensor, torch.Tensor, list[str]]:
    """Stack the readable images of a batch; return (images, labels, unreadable paths)."""
    good = [(x, y) for x, y, _ in batch if x is not None]
    bad = [p for x, _, p in batch if x is None]
    if not good:
        return torch.empty(0), torch.empty(0, dtype=torch.long), bad
    return torch.stack([x for x, _ in good]), torch.tensor([y for _, y in good]), bad
