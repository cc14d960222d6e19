"""The host latency harness: the same model on every runtime, measured one way.

Per runtime and thread count, in its own process: load time, warm-up, then timed runs on a
monotonic ns clock. Runtimes are interleaved round-robin in blocks, so drift on a noisy machine
hits all alike; each runtime's output is checked against eager once before timing. Artifacts come
from the export library, reused when their sidecar matches.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import CoordattError
from ..export.pipeline import ExportConfig, export, plan
from ..export.sidecar import identity_of, read_sidecar, sha256_path
from ..preprocess import load_image, preprocess_config, sample_images
from ..registry import check_model_args, list_models
from .runners import DEFAULT_RUNTIMES, RUNTIME_ARTIFACT, RUNTIMES, unavailable_reason
from .stats import STAT_FIELDS, summarize
from .worker import Worker, WorkerSpec

__all__ = ["BenchConfig", "run_benchmark", "validate", "artifact_for"]

# output check against eager before timing (fp32 runtimes: relative to the logits' scale)
FP32_CHECK_REL = 1e-3
FP16_CHECK_REL = 2e-2
INT8_CHECK_MIN_COSINE = 0.95


@dataclass(frozen=True)
class BenchConfig:
    models: tuple[str, ...] = ("mobilenetv2_ca",)
    runtimes: tuple[str, ...] = DEFAULT_RUNTIMES
    threads: tuple[int, ...] = (1,)
    warmup: int = 10
    iters: int = 50
    block_size: int = 10
    width_mult: float = 1.0
    input_size: tuple[int, int] = (224, 224)
    weights: Path | None = None
    artifacts_dir: Path = Path("artifacts")
    profile: bool = False
    verbose: bool = False


@dataclass
class _Row:
    model: str
    runtime: str
    threads: int
    artifact: Path | None = None
    worker: Worker | None = None
    load_ms: float | None = None
    samples: list[float] = field(default_factory=list)
    peak_rss_mb: float | None = None
    max_abs_diff: float | None = None
    error: str | None = None


def validate(config: BenchConfig) -> None:
    for runtime in config.runtimes:
        if runtime not in RUNTIMES:
            raise ValueError(f"unknown runtime {runtime!r}; choose from {', '.join(RUNTIMES)}")
    for model in config.models:
        check_model_args(model, config.width_mult)
    if not config.models or not config.runtimes:
        raise ValueError(f"no models or runtimes given; models: {', '.join(list_models())}")
    if any(t < 1 for t in config.threads) or not config.threads:
        raise ValueError(f"threads must be positive integers, got {list(config.threads)}")
    if config.iters < 1 or config.warmup < 0 or config.block_size < 1:
        raise ValueError("--iters and --block-size must be >= 1, --warmup >= 0")
    if config.weights is not None and len(config.models) > 1:
        raise ValueError("--weights fits one model; pass a single --models name with it")


def _export_config(config: BenchConfig, model: str, runtime: str | None = None) -> ExportConfig:
    """The export settings of the artifact ``runtime`` runs (fp32 pte settings for eager)."""
    fmt, backend, quantize, precision = RUNTIME_ARTIFACT.get(
        runtime, ("pte", "xnnpack", "none", "fp32"))
    return ExportConfig(
        model=model, width_mult=config.width_mult, input_size=config.input_size,
        weights=config.weights, quantize=quantize,
        # int8 calibrates on the bundled photos, as `make demo` does
        calibration_dir=sample_images()[0].parent if quantize == "int8" else None,
        backend=backend if fmt == "pte" else "xnnpack",
        coreml_precision=precision if fmt == "coreml" else "fp16",
        output_dir=config.artifacts_dir)


def artifact_for(config: BenchConfig, model: str, runtime: str, *, progress: bool = True
                 ) -> Path:
    """The artifact ``runtime`` runs: reused when its sidecar matches, exported when missing.
    Raises CoordattError (a row's error) for a mismatched, foreign or corrupt one."""
    export_config = _export_config(config, model, runtime)
    fmt = RUNTIME_ARTIFACT[runtime][0]
    (target,) = plan(export_config, [fmt])
    path = target.path
    if not path.exists():
        export(export_config, [fmt], verbose=config.verbose, progress=progress)
        return path
    sidecar = read_sidecar(path)
    if sidecar is None:
        raise CoordattError(f"{path.name} has no coordatt sidecar ({path.name}.json); re-export "
                            f"it with coordatt-export --overwrite")
    expected = identity_of(export_config)
    if sidecar.get("identity") != expected:
        got = sidecar.get("identity") or {}
        diff = [f"{k} {got.get(k)!r} (expected {v!r})" for k, v in expected.items()
                if got.get(k) != v]
        raise CoordattError(f"{path.name}: its sidecar does not match the model: "
                            f"{'; '.join(diff)[:200]}")
    if sha256_path(path)[0] != sidecar.get("sha256"):
        raise CoordattError(f"{path.name} does not match its sidecar's sha256: corrupt or "
                            f"modified; re-export it")
    return path


def _check_output(runtime: str, output: np.ndarray, reference: np.ndarray
                  ) -> tuple[float, str | None]:
    import torch

    from ..export.verify import compare_logits

    if np.size(output) != np.size(reference):
        return math.nan, f"output shape {np.shape(output)} differs from eager's {reference.shape}"
    m = compare_logits([torch.from_numpy(reference)], [torch.from_numpy(np.asarray(output))])
    diff, scale = m["max_abs_diff"], m["logit_scale"] or 1.0
    if runtime.endswith("-int8"):
        cosine = m["min_cosine"]
        if cosine < INT8_CHECK_MIN_COSINE:
            return diff, (f"output differs from eager: cosine {cosine:.3f} < "
                          f"{INT8_CHECK_MIN_COSINE}")
        return diff, None
    tol = FP16_CHECK_REL if runtime == "coreml" else FP32_CHECK_REL
    if diff > tol * scale:
        return diff, (f"output differs from eager: max abs diff {diff:.3g} > "
                      f"{tol:g} x {scale:.3g}")
    return diff, None


def _result(config: BenchConfig, row: _Row, precision: str) -> dict:
    stats = summarize(row.samples) if row.samples else dict.fromkeys(STAT_FIELDS)
    return {
        "model": row.model, "width_mult": float(config.width_mult),
        "input_size": list(config.input_size), "runtime": row.runtime, "precision": precision,
        "threads": row.threads, "device": "host", "device_info": None,
        "artifact": row.artifact.name if row.artifact else None,
        "load_ms": row.load_ms, "warmup": config.warmup, "iters": len(row.samples),
        "samples_ms": row.samples, **stats, "peak_rss_mb": row.peak_rss_mb,
        "max_abs_diff": row.max_abs_diff, "source": "coordatt-bench", "error": row.error,
    }


def run_benchmark(config: BenchConfig, *, progress: Callable[[str, int, int], None] | None = None,
                  notice: Callable[[str], None] = lambda text: None) -> tuple[list[dict], dict]:
    """Measure every (model, runtime, threads); returns (result rows, profiles by row label).

    Ctrl-C stops the measurement: the rows keep the samples taken so far, marked as interrupted.
    """
    validate(config)
    from ..export.pipeline import build_export_model

    x = load_image(sample_images()[0], preprocess_config(config.input_size)).numpy()
    import torch

    networks, references = {}, {}
    for model in config.models:
        networks[model], _ = build_export_model(_export_config(config, model))
        with torch.no_grad():
            references[model] = networks[model](torch.from_numpy(x)).numpy()

    artifacts: dict[tuple[str, str], Path | str] = {}
    for model in config.models:
        for runtime in config.runtimes:
            if runtime == "eager" or unavailable_reason(runtime):
                continue
            try:
                artifacts[model, runtime] = artifact_for(config, model, runtime)
            except (CoordattError, ValueError) as e:
                artifacts[model, runtime] = str(e)

    rows_out: list[dict] = []
    profiles: dict[str, list[dict]] = {}
    interrupted = False
    for threads in config.threads:
        rows = []
        for model in config.models:
            for runtime in config.runtimes:
                row = _Row(model, runtime, threads)
                rows.append(row)
                reason = unavailable_reason(runtime)
                art = artifacts.get((model, runtime))
                if reason:
                    row.error = reason
                elif isinstance(art, str):
                    row.error = art
                else:
                    row.artifact = art
        live = [r for r in rows if r.error is None]
        try:
            for i, row in enumerate(live):
                if progress:
                    progress(f"loading {row.runtime} ({row.model}, {threads} thr)", i, len(live))
                net = networks[row.model] if row.runtime == "eager" else None
                row.worker = Worker(WorkerSpec(row.runtime, threads, row.artifact, net, x,
                                               config.verbose))
                reply = row.worker.ask("start", config.warmup)
                if reply[0] == "error":
                    row.error = reply[1]
                    continue
                row.load_ms = reply[1]
                row.max_abs_diff, row.error = _check_output(row.runtime, reply[2],
                                                            references[row.model])
            live = [r for r in live if r.error is None]
            blocks = math.ceil(config.iters / config.block_size)
            for b in range(blocks):
                n = min(config.block_size, config.iters - b * config.block_size)
                for i, row in enumerate(r for r in live if r.error is None):
                    if progress:
                        progress(f"measuring, {threads} thread(s)", b * len(live) + i,
                                 blocks * len(live))
                    reply = row.worker.ask("block", n)
                    if reply[0] == "error":
                        row.error = reply[1]
                    else:
                        row.samples += reply[1]
                        row.peak_rss_mb = reply[2]
            if config.profile:
                for row in (r for r in live if r.error is None):
                    if progress:
                        progress(f"profiling {row.runtime}", 0, 1)
                    reply = row.worker.ask("profile", 20)
                    label = f"{row.model} / {row.runtime} / {threads} thread(s)"
                    if reply[0] == "profile":
                        profiles[label] = reply[1]
                    else:
                        notice(f"profile of {label} failed: {reply[1]}")
        except KeyboardInterrupt:
            interrupted = True
            for row in rows:
                if row.error is None and len(row.samples) < config.iters:
                    row.error = f"interrupted after {len(row.samples)} of {config.iters} runs"
        finally:
            for row in rows:
                if row.worker is not None:
                    row.worker.close()
        for row in rows:
            precision = RUNTIME_ARTIFACT.get(row.runtime, (None, None, None, "fp32"))[3]
            rows_out.append(_result(config, row, precision))
        if interrupted:
            break
    return rows_out, profiles


ANDROID_RUNTIMES = ("onnxruntime", "executorch-xnnpack", "executorch-xnnpack-int8")


def run_on_android(config: BenchConfig, *, serial: str | None = None, apk: Path | None = None,
                   timeout_s: float = 600.0, progress: bool = True) -> list[dict]:
    """Export what is missing, push the artifacts and sidecars, run the demo app's benchmark
    mode once per thread count, and return its rows (device = the phone's model).

    Raises AdbError (from coordatt.bench.android) with a one-line message saying what to do.
    """
    from .android import run_on_device, select_device

    validate(config)
    select_device(serial)  # no adb / no device / unauthorized fail before any export
    paths = []
    for model in config.models:
        for runtime in config.runtimes:
            if runtime in ANDROID_RUNTIMES:
                paths.append(artifact_for(config, model, runtime, progress=progress))
    rows = []
    for threads in config.threads:
        rows += run_on_device(paths, serial=serial, apk=apk, iters=config.iters,
                              warmup=config.warmup, threads=threads, timeout_s=timeout_s)
        apk = None  # installed once
    return rows
