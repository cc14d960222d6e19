"""The check file beside every artifact (``<artifact>.check.bin``, docs/formats.md): the exact
preprocessed verification inputs, eager PyTorch's fp32 outputs on them and the rule that judges an
artifact's outputs, so an artifact can be verified where it runs (``coordatt-eval --check``, the
Android app) without PyTorch or the model.

Little-endian throughout, readable with a ``java.nio.ByteBuffer``: a 96-byte header, then the
inputs as float32 [n, c, h, w], then the expected outputs as float32 [n, k].
"""

from __future__ import annotations

import math
import os
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import CoordattError, check_regular_file

__all__ = ["CheckData", "CheckFileError", "MAGIC", "VERSION", "HEADER_BYTES", "SUFFIX",
           "RULES", "check_path", "encode", "decode", "read_check_file", "write_check_file"]

MAGIC = b"COORDCHK"
VERSION = 1
HEADER_BYTES = 96
SUFFIX = ".check.bin"
# rule codes in the header: how outputs are judged against the expected ones (export/verify.py)
RULES = {1: "fp32", 2: "int8"}
_RULE_CODES = {name: code for code, name in RULES.items()}
# magic, version, header_bytes, n, c, h, w, k, rule, then four float64 thresholds
_HEADER = struct.Struct("<8sIIIIIIII4d")
_MAX_DIM = 1 << 16
_MAX_BYTES = 1 << 31  # a check file is a few MB; anything past 2 GB is not one


class CheckFileError(CoordattError):
    """A check file that cannot be used: missing, truncated, not a check file, wrong shapes."""


@dataclass
class CheckData:
    """The contents of a check file.

    ``inputs`` float32 [n, c, h, w] (each [1, c, h, w] slice one verification input),
    ``expected`` float32 [n, k] eager PyTorch fp32 logits; ``rule`` "fp32" (max abs diff <=
    ``max_rel_diff`` x the expected logits' scale) or "int8" (SQNR, cosine, top-1 agreement vs
    fp32; ``min_top1_agreement`` None when it is not judged: untrained weights).
    """

    inputs: np.ndarray
    expected: np.ndarray
    rule: str
    max_rel_diff: float | None = None
    min_sqnr_db: float | None = None
    min_cosine: float | None = None
    min_top1_agreement: float | None = None

    @property
    def input_shape(self) -> list[int]:
        return [1, *self.inputs.shape[1:]]

    @property
    def output_shape(self) -> list[int]:
        return [1, self.expected.shape[1]]

    def thresholds(self) -> dict:
        """The rule and its thresholds, as the sidecar's ``check`` entry records them."""
        if self.rule == "fp32":
            return {"rule": "fp32", "max_rel_diff": self.max_rel_diff}
        return {"rule": "int8", "min_sqnr_db": self.min_sqnr_db, "min_cosine": self.min_cosine,
                "min_top1_agreement": self.min_top1_agreement}


def check_path(artifact: Path) -> Path:
    """Where ``artifact``'s check file goes: beside it, named by it."""
    return artifact.with_name(artifact.name + SUFFIX)


def _nan_if_none(value: float | None) -> float:
    return math.nan if value is None else float(value)


def _none_if_nan(value: float) -> float | None:
    return None if math.isnan(value) else value


def encode(data: CheckData) -> bytes:
    """The file's bytes; ValueError for arrays that do not make a check file."""
    inputs = np.ascontiguousarray(data.inputs, dtype="<f4")
    expected = np.ascontiguousarray(data.expected, dtype="<f4")
    if inputs.ndim != 4 or inputs.shape[0] < 1 or expected.ndim != 2 or \
            expected.shape[0] != inputs.shape[0] or expected.shape[1] < 1:
        raise ValueError(f"a check file holds inputs [n, c, h, w] and outputs [n, k] for the "
                         f"same n >= 1; got {list(inputs.shape)} and {list(expected.shape)}")
    if data.rule not in _RULE_CODES:
        raise ValueError(f"unknown check rule {data.rule!r}; choose from fp32, int8")
    if not (np.isfinite(inputs).all() and np.isfinite(expected).all()):
        raise ValueError("check file inputs and outputs must be finite")
    n, c, h, w = inputs.shape
    header = _HEADER.pack(MAGIC, VERSION, HEADER_BYTES, n, c, h, w, expected.shape[1],
                          _RULE_CODES[data.rule], _nan_if_none(data.max_rel_diff),
                          _nan_if_none(data.min_sqnr_db), _nan_if_none(data.min_cosine),
                          _nan_if_none(data.min_top1_agreement))
    return header + bytes(HEADER_BYTES - len(header)) + inputs.tobytes() + expected.tobytes()


def decode(blob: bytes, name: str = "check file") -> CheckData:
    """Parse a check file's bytes; CheckFileError naming what is wrong."""
    if len(blob) < HEADER_BYTES or blob[:8] != MAGIC:
        raise CheckFileError(f"{name} is not a coordatt check file (no {MAGIC.decode()} header)")
    magic, version, header_bytes, n, c, h, w, k, rule, *limits = _HEADER.unpack_from(blob)
    if version != VERSION:
        raise CheckFileError(f"{name} is check file version {version}; this coordatt reads "
                             f"version {VERSION}")
    if header_bytes < HEADER_BYTES or rule not in RULES or \
            not all(1 <= d <= _MAX_DIM for d in (n, c, h, w, k)):
        raise CheckFileError(f"{name} has a damaged header (shape {[n, c, h, w]}, {k} outputs, "
                             f"rule {rule})")
    size = header_bytes + 4 * n * (c * h * w + k)
    if len(blob) != size:
        raise CheckFileError(f"{name} is {len(blob)} bytes; its header says {size} "
                             f"(truncated or damaged)")
    body = np.frombuffer(blob, dtype="<f4", offset=header_bytes)
    inputs = body[: n * c * h * w].reshape(n, c, h, w).astype(np.float32)
    expected = body[n * c * h * w:].reshape(n, k).astype(np.float32)
    max_rel, sqnr, cosine, top1 = (_none_if_nan(v) for v in limits)
    if (max_rel is None) if RULES[rule] == "fp32" else (sqnr is None or cosine is None):
        raise CheckFileError(f"{name} has a damaged header (rule {RULES[rule]} without its "
                             f"thresholds)")
    return CheckData(inputs, expected, RULES[rule], max_rel, sqnr, cosine, top1)


def read_check_file(path: Path) -> CheckData:
    """Read and parse a check file (checked to be a regular file before it is opened)."""
    path = check_regular_file(path, "check file", CheckFileError)
    size = path.stat().st_size
    if size > _MAX_BYTES:
        raise CheckFileError(f"check file {path} is {size} bytes: not a check file")
    try:
        blob = path.read_bytes()
    except OSError as e:
        raise CheckFileError(f"cannot read check file {path}: {e.strerror or e}") from None
    return decode(blob, f"check file {path.name}")


def write_check_file(path: Path, data: CheckData) -> int:
    """Write ``data`` to ``path`` (a temporary the caller renames into place); returns its size."""
    blob = encode(data)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)  # the umask's mode
    with os.fdopen(fd, "wb") as f:
        f.write(blob)
    return len(blob)
