"""Class names: the ImageNet-1k list, a user's labels file, and the checks every tool shares.

A labels file has one class name a line, UTF-8, in class-index order (what ``coordatt-train``
writes and ``coordatt-export --labels`` reads). Sidecars carry the list inline, so the app and
every tool show the model's own class names.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from .errors import read_small_text

__all__ = ["imagenet_labels", "imagenet_synsets", "read_labels", "check_labels",
           "default_labels", "write_labels", "MAX_LABEL_BYTES"]

_IMAGENET = Path(__file__).parent / "data" / "imagenet_labels.txt"
# WordNet ids of the 1000 classes in class-index order (the sorted ids, as ILSVRC2012's folders
# sort): timm 1.0.31's timm/data/_info/imagenet_synsets.txt (PyPI, Apache-2.0), checked against
# its imagenet_synset_to_lemma.txt: each id's lemmas are the name on the same line above
_SYNSETS = Path(__file__).parent / "data" / "imagenet_synsets.txt"
MAX_LABEL_BYTES = 16 << 20  # a labels file larger than this is not a labels file


@lru_cache(maxsize=1)
def _imagenet() -> tuple[str, ...]:
    return tuple(_IMAGENET.read_text(encoding="utf-8").splitlines())


def imagenet_labels() -> list[str]:
    """The 1000 ImageNet-1k class names (synset lemmas), in the usual class-index order."""
    return list(_imagenet())


@lru_cache(maxsize=1)
def _synsets() -> tuple[str, ...]:
    return tuple(_SYNSETS.read_text(encoding="utf-8").split())


def imagenet_synsets() -> list[str]:
    """The 1000 ImageNet-1k WordNet ids (``n01440764`` is tench), in class-index order: the
    folder names of ImageNet's own train and val layouts."""
    return list(_synsets())


def check_labels(labels, num_classes: int | None = None, *, source: str = "labels") -> list[str]:
    """Return ``labels`` as a list of str, or raise ValueError: not a list of non-empty,
    single-line, distinct names, or not ``num_classes`` of them."""
    if isinstance(labels, (str, bytes)) or not hasattr(labels, "__iter__"):
        raise ValueError(f"{source}: expected a list of class names, got {type(labels).__name__}")
    names = list(labels)
    for i, name in enumerate(names):
        if not isinstance(name, str):
            raise ValueError(f"{source}: class {i} is a {type(name).__name__}, not a name")
        if not name.strip():
            raise ValueError(f"{source}: class {i} has an empty name")
        if "\n" in name or "\r" in name:
            raise ValueError(f"{source}: class {i} spans several lines")
    seen: dict[str, int] = {}
    for i, name in enumerate(names):
        if name in seen:
            raise ValueError(f"{source}: duplicate class name {name!r} (classes {seen[name]} "
                             f"and {i})")
        seen[name] = i
    if num_classes is not None and len(names) != num_classes:
        raise ValueError(f"{source} has {len(names)} names but the classifier has "
                         f"{num_classes} outputs")
    if not names:
        raise ValueError(f"{source}: no class names")
    return names


def read_labels(path: str | os.PathLike, num_classes: int | None = None) -> list[str]:
    """Read a labels file (one name a line, UTF-8, a BOM and a final newline allowed); its
    length must equal ``num_classes`` when given. Raises ValueError naming the problem."""
    text = read_small_text(path, "labels file", MAX_LABEL_BYTES)
    lines = text.splitlines()
    while lines and not lines[-1].strip():  # trailing blank lines are not classes
        lines.pop()
    return check_labels([line.strip() for line in lines], num_classes, source=f"labels file {path}")


def default_labels(num_classes: int) -> tuple[list[str], str]:
    """Labels when none are given: ImageNet's for 1000 classes, else ``class_0``.. (and the
    sidecar's ``labels_source``: "imagenet-1k" or "generic")."""
    if num_classes == 1000:
        return imagenet_labels(), "imagenet-1k"
    return [f"class_{i}" for i in range(num_classes)], "generic"


def write_labels(path: str | os.PathLike, labels: list[str]) -> Path:
    """Write a labels file atomically (one name a line, UTF-8)."""
    path = Path(path)
    names = check_labels(labels, source="labels")
    tmp = path.with_name(f".tmp-{os.getpid()}-{path.name}")
    try:
        tmp.write_text("".join(f"{n}\n" for n in names), encoding="utf-8")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path
