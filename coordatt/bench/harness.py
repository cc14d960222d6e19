"""The host latency harness: the same model on every runtime, measured one way.

Per runtime and thread count, in its own process: load time, warm-up, then timed runs on a
monotonic ns clock. Runtimes are interleaved round-robin in blocks, so drift on a noisy machine
hits all alike; each runtime's output is checked against eager once before timing. Artifacts come
from the export library, reused when their sidecar matches.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import check_regular_file
from ..export.sidecar import read_sidecar
from ..model_source import is_factory_spec, load_factory
from ..registry import check_model_args, list_models
from ..runtime import DEFAULT_RUNTIMES, unavailable_reason
from ..runtime import NAMES as RUNTIMES
from ..runtime import get as runtime_spec
from .android.bench import run_on_android  # noqa: F401 (coordatt-bench --device android)
from .paths import check_folder
from .stats import STAT_FIELDS, summarize
from .subjects import Subject, artifact_for, discover, subjects_from_config
from .worker import Worker, WorkerSpec

__all__ = ["BenchConfig", "run_benchmark", "validate", "artifact_for",
           "run_on_android"]

# output check against eager before timing (fp32 runtimes: relative to the logits' scale)
FP32_CHECK_REL = 1e-3
FP16_CHECK_REL = 2e-2
INT8_CHECK_MIN_COSINE = 0.95


@dataclass(frozen=True)
class BenchConfig:
    models: tuple[str, ...] | None = ("mobilenetv2_ca",)  # None: what --artifacts holds
    runtimes: tuple[str, ...] = DEFAULT_RUNTIMES
    threads: tuple[int, ...] = (1,)
    warmup: int = 10
    iters: int = 50
    block_size: int = 10
    width_mult: float | None = None
    input_size: tuple[int, int] = (224, 224)
    weights: Path | None = None
    artifacts_dir: Path = Path("artifacts")
    profile: bool = False
    verbose: bool = False
    eval_dir: Path | None = None  # labelled images: accuracy columns beside latency
    eval_limit: int | None = None  # a seeded sample of this many of them


@dataclass
class _Row:
    subject: Subject
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
    if not config.runtimes:
        raise ValueError(f"no runtimes given; choose from {', '.join(RUNTIMES)}")
    if config.models is not None:
        if not config.models:
            raise ValueError(f"no models given; choose from {', '.join(list_models())}, or a "
                             f"factory package.module:callable")
        for model in config.models:
            if is_factory_spec(model):
                load_factory(model)
            else:
                check_model_args(model, 1.0 if config.width_mult is None else config.width_mult)
    if any(t < 1 for t in config.threads) or not config.threads:
        raise ValueError(f"threads must be positive integers, got {list(config.threads)}")
    if config.iters < 1 or config.warmup < 0 or config.block_size < 1:
        raise ValueError("--iters and --block-size must be >= 1, --warmup >= 0")
    if config.weights is not None and (config.models is None or len(config.models) > 1):
        raise ValueError("--weights fits one model; pass a single --models name with it")
    # stat before anything opens them: a FIFO or /dev/zero would block or never end
    if config.weights is not None:
        check_regular_file(Path(config.weights), "--weights")
    if config.models is None or Path(config.artifacts_dir).exists():
        check_folder(Path(config.artifacts_dir), "--artifacts")
    if config.eval_limit is not None and config.eval_limit < 1:
        raise ValueError(f"--eval-limit must be a positive number of images, got "
                         f"{config.eval_limit}")


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


def _precision(row: _Row) -> str:
    """What the row measured: its artifact's precision (a Core ML package may be fp16 or
    fp32), else the runtime's."""
    if row.artifact is not None:
        sidecar = read_sidecar(Path(row.artifact)) or {}
        if sidecar.get("precision") in ("fp32", "fp16", "int8"):
            return sidecar["precision"]
    return runtime_spec(row.runtime).precision


def _result(config: BenchConfig, row: _Row, precision: str) -> dict:
    stats = summarize(row.samples) if row.samples else dict.fromkeys(STAT_FIELDS)
    subject = row.subject
    return {
        "model": subject.label,
        "width_mult": None if subject.width_mult is None else float(subject.width_mult),
        "input_size": list(subject.input_size), "runtime": row.runtime, "precision": precision,
        "threads": row.threads, "device": "host", "device_info": None,
        "artifact": row.artifact.name if row.artifact else None,
        "load_ms": row.load_ms, "warmup": config.warmup, "iters": len(row.samples),
        "samples_ms": row.samples, **stats, "peak_rss_mb": row.peak_rss_mb,
        "max_abs_diff": row.max_abs_diff, "source": "coordatt-bench", "error": row.error,
    }


def _subjects(config: BenchConfig) -> list[Subject]:
    if config.models is None:
        return discover(config.artifacts_dir, config.runtimes)
    return subjects_from_config(config)


def _plan_rows(subjects: list[Subject], runtimes: tuple[str, ...], threads: int) -> list[_Row]:
    rows = []
    for subject in subjects:
        for runtime in runtimes:
            if runtime != "eager" and runtime not in subject.artifacts and \
                    not unavailable_reason(runtime):
                continue  # discovered artifacts: only the runtimes the folder has
            row = _Row(subject, runtime, threads)
            rows.append(row)
            reason = unavailable_reason(runtime)
            art = subject.artifacts.get(runtime)
            if reason:
                row.error = reason
            elif runtime == "eager":
                row.error = subject.eager_error if subject.network is None else None
            elif isinstance(art, str):
                row.error = art
            else:
                row.artifact = art
    return rows


def run_benchmark(config: BenchConfig, *, progress: Callable[[str, int, int], None] | None = None,
                  notice: Callable[[str], None] = lambda text: None) -> tuple[list[dict], dict]:
    """Measure every (model, runtime, threads); returns (result rows, profiles by row label).

    With ``config.models`` None, measures every artifact ``config.artifacts_dir`` holds (by its
    sidecar, of any model), with an eager row where the model can be built here.
    Ctrl-C stops the measurement: the rows keep the samples taken so far, marked as interrupted.
    """
    validate(config)
    images = None
    if config.eval_dir is not None:  # bad labelled images fail before anything is measured
        from ..eval.dataset import scan

        images = scan(config.eval_dir).sample(config.eval_limit)
    subjects = _subjects(config)
    if images is not None:
        _check_eval_labels(subjects, images)

    rows_out: list[dict] = []
    row_subjects: list[Subject] = []  # rows_out[i] measured row_subjects[i]
    profiles: dict[str, dict] = {}  # label -> model, runtime, threads, size, operators
    interrupted = False
    for threads in config.threads:
        rows = _plan_rows(subjects, config.runtimes, threads)
        live = [r for r in rows if r.error is None]
        try:
            for i, row in enumerate(live):
                subject = row.subject
                if progress:
                    progress(f"loading {row.runtime} ({subject.label}, {threads} thr)", i,
                             len(live))
                net = subject.network if row.runtime == "eager" else None
                row.worker = Worker(WorkerSpec(row.runtime, threads, row.artifact, net,
                                               subject.x, config.verbose))
                reply = row.worker.ask("start", config.warmup)
                if reply[0] == "error":
                    row.error = reply[1]
                    continue
                row.load_ms = reply[1]
                if subject.reference is not None:
                    row.max_abs_diff, row.error = _check_output(row.runtime, reply[2],
                                                                subject.reference)
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
                    label = f"{row.subject.label} / {row.runtime} / {threads} thread(s)"
                    if reply[0] == "profile":
                        profiles[label] = {
                            "model": row.subject.label, "runtime": row.runtime,
                            "threads": threads, "width_mult": row.subject.width_mult,
                            "input_size": list(row.subject.input_size), "operators": reply[1]}
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
            rows_out.append(_result(config, row, _precision(row)))
            row_subjects.append(row.subject)
        if interrupted:
            break
    if images is not None and not interrupted:
        _add_accuracy(config, subjects, images, rows_out, row_subjects,
                      progress=progress is not None and sys.stderr.isatty(), notice=notice)
    return rows_out, profiles


ACCURACY_FIELDS = ("top1", "top5", "top1_agreement", "eval_images")


def _check_eval_labels(subjects: list[Subject], images) -> None:
    """ValueError (before any measuring) when the images' classes match no model's labels."""
    from ..eval.dataset import match_labels
    from ..eval.evaluate import sidecar_of

    errors = []
    for subject in subjects:
        sidecar = sidecar_of(subject)
        if sidecar is None:
            continue
        try:
            match_labels(images, sidecar["labels"])
            return
        except ValueError as e:
            errors.append(str(e))
    if errors:
        raise ValueError(f"--eval-dir: {errors[0]}")


def _add_accuracy(config: BenchConfig, subjects: list[Subject], images, rows: list[dict],
                  row_subjects: list[Subject], *, progress: bool,
                  notice: Callable[[str], None]) -> None:
    """Evaluate each subject's runtimes on ``images`` (coordatt.eval, the same artifacts) and
    put top-1, top-5 and agreement with eager into their rows, every thread count alike."""
    from ..eval.evaluate import evaluate_subjects

    measured = tuple(dict.fromkeys(r["runtime"] for r in rows if r["error"] is None))
    accuracy, data = evaluate_subjects(subjects, images, measured, verbose=config.verbose,
                                       progress=progress, notice=notice)
    if data["skipped_images"]:
        notice(f"--eval-dir: {data['skipped_images']} image(s) could not be decoded and were "
               f"skipped")
    found = {(a["group"], a["runtime"]): a for a in accuracy}
    for row, subject in zip(rows, row_subjects):
        a = found.get((subjects.index(subject), row["runtime"]))
        if row["error"] is None and a is not None and a["error"] is None:
            row.update(top1=a["top1"], top5=a["top5"], top1_agreement=a["top1_agreement"],
                       eval_images=a["images"])
        else:
            row.update(dict.fromkeys(ACCURACY_FIELDS))
