"""coordatt's own ``benchmark_results.json`` / ``results.json`` (``schema: "coordatt.bench/1"``).

Written by ``coordatt-bench`` and the Android app; statistics are recomputed from ``samples_ms``.
"""

from __future__ import annotations

from typing import Any

from coordatt.bench.stats import STAT_FIELDS

from .rows import DeviceLogError, Hints, Row, add_note, apply_hints, make_row

NAME = "coordatt"
SCHEMA = "coordatt.bench/1"
_REQUIRED_ROW_KEYS = ("model", "runtime", "samples_ms")


def matches(text: str, data: Any) -> bool:
    return isinstance(data, dict) and "schema" in data


def parse(text: str, data: dict[str, Any], hints: Hints) -> list[Row]:
    if data.get("schema") != SCHEMA:
        raise DeviceLogError(
            f"result schema {data.get('schema')!r} is not {SCHEMA!r}; update coordatt or the app"
        )
    results = data.get("results")
    if not isinstance(results, list):
        raise DeviceLogError(f"{SCHEMA} file has no 'results' list; the writer stopped early")
    rows = []
    for i, raw in enumerate(results):
        if not isinstance(raw, dict):
            raise DeviceLogError(f"results[{i}] is {type(raw).__name__}, not an object")
        missing = [key for key in _REQUIRED_ROW_KEYS if key not in raw]
        if missing:
            raise DeviceLogError(f"results[{i}] lacks {', '.join(missing)}")
        samples = raw["samples_ms"]
        if not isinstance(samples, list) or not all(
            isinstance(x, (int, float)) and not isinstance(x, bool) for x in samples
        ):
            raise DeviceLogError(f"results[{i}].samples_ms must be a list of numbers")
        row = make_row(
            source=raw.get("source") or "coordatt-bench",
            samples_ms=samples,
            artifact=raw.get("artifact"),
            model=raw["model"],
            runtime=raw["runtime"],
        )
        for key, value in raw.items():
            # keep what make_row filled in (e.g. the model from the artifact's name) over a null
            if (
                key not in STAT_FIELDS
                and key != "samples_ms"
                and (value is not None or row.get(key) is None)
            ):
                row[key] = value
        if samples:
            _check_statistics(row, raw)
        rows.append(apply_hints(row, hints))
    return rows


def _check_statistics(row: Row, raw: dict[str, Any]) -> None:
    """Keep our statistics, recomputed; say so when the writer's disagreed."""
    differ = [
        key
        for key in STAT_FIELDS
        if isinstance(raw.get(key), (int, float))
        and abs(raw[key] - row[key]) > 1e-6 * max(1.0, abs(row[key]))
    ]
    if differ:
        differed = ", ".join(differ)
        add_note(row, f"recomputed {differed} from samples_ms (the writer's values differed)")
