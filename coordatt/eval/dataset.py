"""Labelled images for evaluation: a folder of one subfolder per class (torchvision's ImageFolder
layout; ImageNet's synset folders ``n01440764`` map through the ImageNet list), or a flat folder
with a labels CSV (``file,class``), matched by name against a model's labels.

A training folder (``train/`` and ``val/`` inside) is evaluated on its ``val/``. Images are
listed here and decoded later, by the evaluation, with each model's own preprocessing; a file
that does not decode is skipped and counted there.
"""

from __future__ import annotations

import csv
import io
import os
import random
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import check_folder, read_small_text
from ..labels import imagenet_labels, imagenet_synsets
from ..preprocess import IMAGE_SUFFIXES

__all__ = ["ImageSet", "scan", "match_labels", "LABELS_CSV", "MAX_CSV_BYTES"]

LABELS_CSV = "labels.csv"  # found in a flat folder without --labels-csv
MAX_CSV_BYTES = 64 << 20


@dataclass
class ImageSet:
    """Images and their class names as the folder gives them (before matching a model)."""

    root: Path
    layout: str  # "class folders" | "labels csv"
    samples: list[tuple[Path, str]]  # (image, class name), sorted by path
    classes: list[str]  # every class the folder names, sorted
    missing: list[str] = field(default_factory=list)  # CSV rows whose file is not there
    note: str | None = None  # e.g. "evaluated on DIR/val"

    def sample(self, limit: int | None, seed: int = 0) -> ImageSet:
        """A seeded random sample of ``limit`` images (all when ``limit`` is None or larger)."""
        if limit is None or limit >= len(self.samples):
            return self
        chosen = sorted(random.Random(seed).sample(self.samples, limit))
        return ImageSet(self.root, self.layout, chosen, self.classes, self.missing, self.note)


def _is_image(path: Path) -> bool:
    return path.suffix.lower() in IMAGE_SUFFIXES and not path.name.startswith(".") and \
        path.is_file()  # a regular file (through symlinks): never a FIFO or a device


def _subfolders(folder: Path) -> list[Path]:
    try:
        return sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))
    except OSError as e:
        raise ValueError(f"cannot read folder {folder}: {e.strerror or e}") from None


def _class_folder_samples(folder: Path) -> tuple[list[tuple[Path, str]], list[str]]:
    samples, classes = [], []
    for sub in _subfolders(folder):
        try:
            files = sorted(p for p in sub.rglob("*") if _is_image(p))
        except OSError as e:
            raise ValueError(f"cannot read folder {sub}: {e.strerror or e}") from None
        if files:
            classes.append(sub.name)
            samples += [(p, sub.name) for p in files]
    return samples, classes


def _read_csv(path: Path, root: Path) -> tuple[list[tuple[Path, str]], list[str]]:
    text = read_small_text(path, "labels CSV", MAX_CSV_BYTES)
    samples, missing = [], []
    for number, row in enumerate(csv.reader(io.StringIO(text)), start=1):
        if not row or not any(cell.strip() for cell in row):
            continue
        if number == 1 and [c.strip().lower() for c in row[:2]] == ["file", "class"]:
            continue  # the header
        if len(row) < 2 or not row[0].strip() or not row[1].strip():
            raise ValueError(f"labels CSV {path}, line {number}: expected file,class, got "
                             f"{','.join(row)[:80]!r}")
        file = Path(row[0].strip())
        file = file if file.is_absolute() else root / file
        if _is_image(file):
            samples.append((file, row[1].strip()))
        else:
            missing.append(row[0].strip())
    if not samples:
        raise ValueError(f"labels CSV {path} names no .jpg/.jpeg/.png image that is in {root}"
                         + (f" ({len(missing)} listed files are missing, e.g. {missing[0]})"
                            if missing else ""))
    return sorted(samples), missing


def scan(data: str | os.PathLike, labels_csv: str | os.PathLike | None = None) -> ImageSet:
    """The labelled images of ``data``: its class subfolders, or the files a labels CSV names
    (``labels_csv``, or ``data/labels.csv``). ValueError when it holds neither."""
    root = check_folder(data, "--data folder")
    if labels_csv is None and (root / LABELS_CSV).is_file():
        labels_csv = root / LABELS_CSV
    if labels_csv is not None:
        samples, missing = _read_csv(Path(labels_csv), root)
        return ImageSet(root, "labels csv", samples, sorted({c for _, c in samples}), missing)
    names = {p.name for p in _subfolders(root)}
    note = None
    if {"train", "val"} <= names:  # a coordatt-train folder: its held-out half
        root, note = root / "val", f"evaluated on {root / 'val'} (the folder's validation split)"
    samples, classes = _class_folder_samples(root)
    if not samples:
        raise ValueError(f"{root} has no class subfolders with .jpg/.jpeg/.png images and no "
                         f"{LABELS_CSV}; give one subfolder per class, or --labels-csv FILE "
                         f"(file,class)")
    return ImageSet(root, "class folders", samples, classes, note=note)


def _few(names: list[str], n: int = 4) -> str:
    shown = ", ".join(repr(x) for x in names[:n])
    return shown + (f" ... ({len(names)} in all)" if len(names) > n else "")


def match_labels(images: ImageSet, labels: list[str]) -> tuple[list[tuple[Path, int]],
                                                                list[str]]:
    """(image, class index) for the images whose class is one of ``labels`` (by name, or for
    ImageNet's labels by WordNet id), and the folder's classes that match none.
    ValueError naming a few of each when no class matches."""
    index = {name: i for i, name in enumerate(labels)}
    if list(labels) == imagenet_labels():
        index.update({wnid: i for i, wnid in enumerate(imagenet_synsets())})
    unmatched = [c for c in images.classes if c not in index]
    samples = [(path, index[c]) for path, c in images.samples if c in index]
    if not samples:
        raise ValueError(f"the classes of {images.root} ({_few(images.classes)}) match none of "
                         f"the model's labels ({_few(list(labels))})")
    return samples, unmatched
