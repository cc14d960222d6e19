"""Read a saved tool output or result file, detect which tool wrote it, and parse it."""

from __future__ import annotations

import codecs
import json
from pathlib import Path
from typing import Any

from coordatt.errors import check_regular_file

from . import benchmark_model, coordatt_json, executor_runner, minibench, onnxruntime_perf_test
from .rows import DeviceLogError, Row

# detection order: JSON formats first, then text formats by their telltale lines
_PARSERS = {
    module.NAME: module
    for module in (
        coordatt_json,
        minibench,
        executor_runner,
        onnxruntime_perf_test,
        benchmark_model,
    )
}
FORMATS = tuple(_PARSERS)


def load_device_log(path: str | Path, **kwargs: Any) -> list[Row]:
    """Read a saved tool output or result file and parse it with :func:`parse_device_log`."""
    path = Path(path)
    check_regular_file(path, "device log", DeviceLogError)
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise DeviceLogError(f"cannot read device log {str(path)!r}: {e.strerror}") from e
    # PowerShell's "adb logcat > log.txt" writes UTF-16 with a byte-order mark
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        text = raw.decode("utf-16", errors="replace")
    else:
        text = raw.decode("utf-8-sig", errors="replace")
    if "\x00" in text[:65536]:
        raise DeviceLogError(
            f"device log {str(path)!r} is binary (it holds NUL bytes), not a tool's text output; "
            "save the tool's stdout or logcat as text"
        )
    return parse_device_log(text, **kwargs)


def parse_device_log(
    text: str,
    *,
    model: str | None = None,
    device: str | None = None,
    runtime: str | None = None,
    artifact: str | None = None,
    threads: int | None = None,
    input_size: list[int] | None = None,
    fmt: str | None = None,
) -> list[Row]:
    """Detect the tool that wrote ``text`` and return its results as rows.

    Keyword arguments fill what the log does not say (and ``model``/``runtime`` override what
    it does); ``fmt`` forces one of :data:`FORMATS` instead of detecting it.
    """
    if fmt is not None and fmt not in FORMATS:
        raise ValueError(f"unknown device log format {fmt!r}; choose from {', '.join(FORMATS)}")
    hints = {
        "model": model,
        "device": device,
        "runtime": runtime,
        "artifact": artifact,
        "threads": threads,
        "input_size": input_size,
    }
    stripped = text.removeprefix("\ufeff").strip()
    data: Any = None
    if stripped[:1] in ("{", "["):
        try:
            data = json.loads(stripped)
        except json.JSONDecodeError as e:
            if fmt in ("coordatt", "minibench"):
                raise DeviceLogError(f"{fmt} result is not valid JSON: {e}") from e
        except RecursionError:  # [[[[... nested past Python's limit
            raise DeviceLogError("the JSON is nested too deeply to be a result file") from None
    candidates = [fmt] if fmt else list(FORMATS)
    for name in candidates:
        parser = _PARSERS[name]
        if parser.matches(text, data):
            return parser.parse(text, data, hints)
    head = stripped[:60].replace("\n", " ")
    raise DeviceLogError(
        f"no known benchmark output in the text (starts {head!r}); tried "
        f"{', '.join(candidates)}; pass a tool's full output or a benchmark_results.json"
    )
