"""Result rows shared by every device-log parser: the artifact-name convention and the row shape.

A row has every field of ``results.json`` (docs/formats.md). Statistics come from
:func:`coordatt.bench.stats.summarize` whenever a tool gives every timed run; a statistic it does
not give, or gives with a different definition, stays null and the tool's own figure is kept in
``reported_ms`` with a ``note`` saying why.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from coordatt.bench.stats import STAT_FIELDS, summarize

Row = dict[str, Any]
Hints = dict[str, Any]  # model, device, runtime, artifact, threads, input_size from the caller

# a number as C++ streams and printf write it: 12, 9531.2, 2.95034e+06
NUM = r"([0-9]+(?:\.[0-9]*)?(?:[eE][-+]?[0-9]+)?)"


class DeviceLogError(ValueError):
    """A device log or result file that none of the known formats can read."""


# mobilenetv2_ca_100_xnnpack_fp32[_160x160]: model, width x 100, backend, precision, input size
# when not 224x224 (docs/formats.md; coordatt.export.pipeline.artifact_stem)
_ARTIFACT_NAME = re.compile(
    r"^(?P<model>[A-Za-z0-9_]+?)_(?P<width>\d{2,3})_(?P<backend>[A-Za-z0-9]+)"
    r"_(?P<precision>fp32|fp16|int8)(?:_(?P<height>\d+)x(?P<size_w>\d+))?$"
)
_SUFFIXES = (".pte", ".onnx", ".mlpackage", ".tflite", ".json")


def parse_artifact_name(name: str) -> dict[str, Any]:
    """Split an artifact file name into model, width_mult, backend, precision, runtime and
    input_size.

    Names that do not follow the convention give ``{"model": <stem>}`` and nulls elsewhere.
    A ``.tflite`` file is LiteRT's whatever its backend part says (``litert``/``litert-int8``).
    """
    stem = Path(name).name
    for suffix in _SUFFIXES:
        stem = stem.removesuffix(suffix)
    match = _ARTIFACT_NAME.match(stem)
    if match is None:
        return {
            "model": stem,
            "width_mult": None,
            "backend": None,
            "precision": None,
            "runtime": None,
            "input_size": None,
        }
    backend, precision = match["backend"], match["precision"]
    tflite = Path(name).name.endswith(".tflite")
    return {
        "model": match["model"],
        "width_mult": int(match["width"]) / 100,
        "backend": backend,
        "precision": precision,
        "runtime": runtime_for("litert" if tflite else backend, precision),
        "input_size": [int(match["height"]), int(match["size_w"])] if match["height"] else None,
    }


def runtime_for(backend: str | None, precision: str | None) -> str | None:
    """Our runtime name for an artifact backend and precision (``onnx`` -> ``onnxruntime``)."""
    if not backend:
        return None
    backend = backend.lower()
    if backend in ("onnx", "ort", "onnxruntime"):
        return "onnxruntime-int8" if precision and is_int8(precision) else "onnxruntime"
    if backend in ("mlprogram", "coreml"):
        return "coreml"
    if backend in ("litert", "tflite"):
        return "litert-int8" if precision and is_int8(precision) else "litert"
    name = f"executorch-{backend}"
    # int8 is its own runtime for XNNPACK (as for ONNX Runtime and LiteRT above)
    if backend == "xnnpack" and precision and is_int8(precision):
        name += "-int8"
    return name


def is_int8(quantization: str) -> bool:
    return quantization.lower() in ("int8", "q8", "qs8", "8a8w", "a8w8")


def make_row(
    *,
    source: str,
    samples_ms: list[float],
    artifact: str | None = None,
    model: str | None = None,
    runtime: str | None = None,
    device: str | None = None,
    **fields: Any,
) -> Row:
    """A results row with every field of docs/formats.md; statistics from ``samples_ms``."""
    named = parse_artifact_name(artifact) if artifact else {}
    row: Row = {
        "model": model or named.get("model"),
        "width_mult": named.get("width_mult"),
        "input_size": named.get("input_size"),
        "runtime": runtime or named.get("runtime"),
        "precision": named.get("precision"),
        "threads": None,
        "device": device or "unknown",
        "device_info": None,
        "artifact": Path(artifact).name if artifact else None,
        "load_ms": None,
        "warmup": None,
        "iters": len(samples_ms) or None,
        "samples_ms": list(samples_ms),
        **dict.fromkeys(STAT_FIELDS),
        "peak_rss_mb": None,
        "max_abs_diff": None,
        "source": source,
        "error": None,
    }
    if samples_ms:
        row.update(summarize(samples_ms))
    for key, value in fields.items():
        if value is not None or key not in row:
            row[key] = value
    return row


def apply_hints(row: Row, hints: Hints) -> Row:
    """Fill a parsed row from the caller's hints: model/runtime override, others fill gaps."""
    for key in ("model", "runtime"):
        if hints[key]:
            row[key] = hints[key]
    for key in ("device", "threads", "input_size"):
        if hints[key] is not None and row.get(key) in (None, "unknown"):
            row[key] = hints[key]
    return row


def add_note(row: Row, note: str) -> None:
    """Append ``note`` to the row's ``note`` ("; "-separated)."""
    row["note"] = f"{row['note']}; {note}" if row.get("note") else note
