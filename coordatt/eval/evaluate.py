"""Accuracy of every artifact in a folder on labelled images, beside eager PyTorch.

The artifacts are found by their sidecars (coordatt.bench.subjects.discover: grouped by the model
they hold, each checked against its sidecar), each group's images are preprocessed as its
sidecars say, and every artifact runs in its own runtime through coordatt.runtime, as export
verification and the latency harness run it. Eager PyTorch, rebuilt from the sidecar, is the
reference: each runtime's top-1 agreement, cosine and SQNR are against its logits on the same
input, and an int8 row's drop in top-1 is against eager fp32 (or, without it, the fp32 artifact
of the same runtime). Each artifact's check file runs first, in the same session.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .._quiet import quiet
from ..bench.subjects import Subject, discover
from ..check_file import CheckFileError
from ..export.sidecar import read_sidecar
from ..preprocess import load_image
from ..runtime import DEFAULT_RUNTIMES, open_session, unavailable_reason
from ..runtime import NAMES as RUNTIMES
from ..runtime import get as runtime_spec
from .check import judge, load_check, run_outputs
from .dataset import ImageSet, match_labels, scan
from .metrics import Tally

__all__ = ["EvalConfig", "SCHEMA", "validate", "load_images", "evaluate", "evaluate_subjects",
           "sidecar_of"]

SCHEMA = "coordatt.eval/1"


@dataclass(frozen=True)
class EvalConfig:
    """What to evaluate; field names mirror ``coordatt-eval``'s flags."""

    data: Path
    artifacts_dir: Path = Path("artifacts")
    runtimes: tuple[str, ...] = DEFAULT_RUNTIMES
    labels_csv: Path | None = None
    limit: int | None = None  # a seeded random sample of this many images
    seed: int = 0
    threads: int | None = None  # None: each runtime's default
    verbose: bool = False


def validate(config: EvalConfig) -> None:
    """ValueError naming the valid choices for any bad setting."""
    if not config.runtimes:
        raise ValueError(f"no runtimes given; choose from {', '.join(RUNTIMES)}")
    for runtime in config.runtimes:
        if runtime not in RUNTIMES:
            raise ValueError(f"unknown runtime {runtime!r}; choose from {', '.join(RUNTIMES)}")
    if config.limit is not None and (isinstance(config.limit, bool) or config.limit < 1):
        raise ValueError(f"--limit must be a positive number of images, got {config.limit!r}")
    if config.threads is not None and config.threads < 1:
        raise ValueError(f"--threads must be a positive integer, got {config.threads!r}")


def load_images(config: EvalConfig) -> ImageSet:
    """The labelled images ``config`` names, sampled when ``config.limit`` says so."""
    return scan(config.data, config.labels_csv).sample(config.limit, config.seed)


def sidecar_of(subject: Subject) -> dict | None:
    """A sidecar of the subject's artifacts: its labels and preprocessing."""
    if subject.sidecar is not None:
        return subject.sidecar
    for art in subject.artifacts.values():
        if isinstance(art, Path) and (doc := read_sidecar(art)) is not None:
            return doc
    return None


def _one_line(e: BaseException) -> str:
    text = (str(e).strip().splitlines() or [""])[0][:200]
    return f"{type(e).__name__}: {text}" if not isinstance(e, ValueError) else text


@dataclass
class _Run:
    """One row in progress: a loaded session (None for a row that failed or was skipped)."""

    runtime: str
    artifact: Path | None
    session: object | None = None
    error: str | None = None
    check: str | None = None
    tally: Tally | None = None


def _open(run: _Run, subject: Subject, threads: int | None, verbose: bool) -> None:
    try:
        with quiet(verbose):  # runtimes print on load (cpuinfo lines)
            session = open_session(run.runtime, run.artifact, threads=threads,
                                   model=subject.network if run.artifact is None else None)
            session.prepare()
            session.load()
    except Exception as e:  # a runtime that cannot load the artifact: this row's error
        run.error = f"cannot load: {_one_line(e)}"
        return
    run.session, run.tally = session, Tally()
    if run.artifact is None:
        return
    try:
        data = load_check(run.artifact, read_sidecar(run.artifact) or {})
        with quiet(verbose):
            verdict = judge(data, run_outputs(session, data))
        run.check = verdict["status"]
    except CheckFileError as e:
        run.check = "no check file" if getattr(e, "missing", False) else f"error: {e}"
    except Exception as e:
        run.check = f"failed: {_one_line(e)}"


def _plan(subject: Subject, runtimes: tuple[str, ...]) -> list[_Run]:
    runs = []
    for runtime in runtimes:
        if runtime == "eager":
            run = _Run("eager", None)
            run.error = subject.eager_error if subject.network is None else None
        elif runtime in subject.artifacts:
            art = subject.artifacts[runtime]
            run = _Run(runtime, art if isinstance(art, Path) else None)
            run.error = art if isinstance(art, str) else unavailable_reason(runtime)
        else:
            continue  # the folder has no artifact for it
        runs.append(run)
    return runs


def _drops(rows: list[dict]) -> None:
    """int8 rows: top-1 drop in points against eager fp32 of the same model, else against the
    same runtime's fp32 artifact."""
    for row in rows:
        row.setdefault("top1_drop_pts", None)
        row.setdefault("drop_vs", None)
    for row in rows:
        if row["precision"] != "int8" or row["top1"] is None:
            continue
        group = [r for r in rows if r["group"] == row["group"] and r["top1"] is not None]
        fp32 = row["runtime"].removesuffix("-int8")
        for reference in ("eager", fp32):
            base = next((r for r in group if r["runtime"] == reference), None)
            if base is not None:
                row["top1_drop_pts"] = round((base["top1"] - row["top1"]) * 100, 3)
                row["drop_vs"] = reference
                break


def _row(subject: Subject, group: int, run: _Run) -> dict:
    precision = runtime_spec(run.runtime).precision
    if run.runtime == "coreml" and run.artifact is not None:  # fp16 or fp32: the package's own
        precision = (read_sidecar(run.artifact) or {}).get("precision", precision)
    numbers = run.tally.summary() if run.tally is not None else Tally().summary()
    if run.runtime == "eager":  # the reference itself: agreement is by definition
        numbers.update(top1_agreement=None, cosine_mean=None, cosine_min=None, sqnr_db=None,
                       sqnr_db_min=None, max_abs_diff=None)
    return {"model": subject.label, "group": group,
            "width_mult": None if subject.width_mult is None else float(subject.width_mult),
            "input_size": list(subject.input_size), "runtime": run.runtime,
            "precision": precision, "artifact": run.artifact.name if run.artifact else None,
            **numbers, "check": run.check, "error": run.error}


def evaluate_subjects(subjects: list[Subject], images: ImageSet, runtimes: tuple[str, ...], *,
                      threads: int | None = None, verbose: bool = False,
                      progress: bool = True,
                      notice: Callable[[str], None] = lambda text: None
                      ) -> tuple[list[dict], dict]:
    """Evaluate every subject's runtimes on ``images``; returns (rows, data), ``data`` saying
    what was evaluated (images, skipped files, classes that matched no label).
    ValueError when the images' classes match no subject's labels."""
    from tqdm import tqdm

    rows: list[dict] = []
    skipped: set[Path] = set()
    unmatched: dict[str, list[str]] = {}
    mismatch: list[str] = []
    for group, subject in enumerate(subjects):
        sidecar = sidecar_of(subject)
        runs = _plan(subject, runtimes)
        try:
            if sidecar is None:
                raise ValueError(f"{subject.label}: no usable artifact to read its labels from")
            samples, unknown = match_labels(images, sidecar["labels"])
        except ValueError as e:
            mismatch.append(str(e))
            for run in runs:
                run.error = run.error or str(e)
            rows += [_row(subject, group, run) for run in runs]
            continue
        if unknown:
            unmatched[subject.label] = unknown
            notice(f"{subject.label}: {len(unknown)} class(es) of {images.root} match none of "
                   f"its labels ({', '.join(unknown[:3])}{' ...' if len(unknown) > 3 else ''}); "
                   f"their images are left out")
        reference = _Run("eager", None)
        if subject.network is not None:
            _open(reference, subject, threads, verbose)
        for run in runs:
            if run.error is None:
                if run.runtime == "eager":
                    run.session, run.tally, run.error = reference.session, reference.tally, \
                        reference.error
                else:
                    _open(run, subject, threads, verbose)
        live = [r for r in runs if r.session is not None and r.runtime != "eager"]
        bar = tqdm(samples, desc=f"{subject.label} ({len(live) + 1} runtimes)", unit="img",
                   disable=not progress, file=sys.stderr, leave=False, dynamic_ncols=True)
        for path, truth in bar:
            try:
                x = load_image(path, sidecar["preprocess"]).numpy()
            except Exception:  # undecodable, truncated, a decompression bomb: skipped, counted
                skipped.add(path)
                continue
            ref = None
            if reference.session is not None:
                ref = reference.session.run(x)
                reference.tally.add(ref, truth)
            for run in live:
                if run.error is not None:
                    continue
                try:
                    run.tally.add(run.session.run(x), truth, ref)
                except Exception as e:
                    run.error = f"failed on {path.name}: {_one_line(e)}"
        bar.close()
        for run in [*live, reference]:
            if run.session is not None:
                run.session.close()
        rows += [_row(subject, group, run) for run in runs]
    if mismatch and len(mismatch) == len(subjects):
        raise ValueError(mismatch[0])
    _drops(rows)
    data = {"path": str(images.root), "layout": images.layout, "images": len(images.samples),
            "classes": len(images.classes), "skipped_images": len(skipped),
            "skipped_files": sorted(str(p) for p in skipped)[:20],
            "missing_files": images.missing[:20], "unmatched_classes": unmatched,
            "note": images.note}
    return rows, data


def evaluate(config: EvalConfig, *, progress: bool = True,
             notice: Callable[[str], None] = lambda text: None) -> dict:
    """Evaluate every artifact in ``config.artifacts_dir`` on ``config.data``; returns the
    ``coordatt.eval/1`` document (docs/formats.md). ValueError for bad input."""
    from ..bench.paths import check_folder
    from ..bench.report import machine_info

    validate(config)
    check_folder(Path(config.artifacts_dir), "--artifacts")
    images = load_images(config)
    # eager is always rebuilt where it can be: it is every row's reference
    subjects = discover(config.artifacts_dir, (*config.runtimes, "eager"))
    rows, data = evaluate_subjects(subjects, images, config.runtimes, threads=config.threads,
                                   verbose=config.verbose, progress=progress, notice=notice)
    data.update(limit=config.limit, seed=config.seed if config.limit is not None else None,
                labels_csv=None if config.labels_csv is None else str(config.labels_csv))
    return {"schema": SCHEMA, "machine": machine_info(),
            "config": {"artifacts": str(config.artifacts_dir), "runtimes": list(config.runtimes),
                       "threads": config.threads},
            "data": data, "results": rows}
