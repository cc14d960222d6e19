"""The labelled sample a phone evaluates (``coordatt-bench --device android --eval-dir DIR``).

The images are read and sampled as ``coordatt-eval --limit`` does (coordatt.eval.dataset: class
folders or a labels CSV, a seeded sample), matched against the pushed artifacts' labels, copied
into one flat folder with ``eval_labels.csv`` (``file,class,eager_top1``, docs/formats.md
"Android benchmark run"), and pushed beside the models. ``eager_top1`` is eager PyTorch fp32's
top-1 class index on the host, so the phone can measure agreement with eager; the phone itself
computes top-1, top-5 and agreement for every artifact. A phone row never carries the host's
accuracy.
"""

from __future__ import annotations

import csv
import io
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

EVAL_LABELS = "eval_labels.csv"
DEFAULT_LIMIT = 500  # images pushed at most unless --device-eval-limit says otherwise
FOLDER = "eval"  # its name on the phone: <model_dir>/eval


@dataclass
class EvalSample:
    """A staged folder (``folder``, named ``eval``) ready to push, and what it holds."""

    folder: Path
    images: int
    with_eager: int  # images with an eager_top1
    config: dict[str, Any]  # results.json config["android"]["eval"]


def _subjects_of(artifacts: list[Path]):
    """The artifacts' model groups (coordatt.bench.subjects.discover), eager rebuilt."""
    from coordatt.bench.subjects import discover
    from coordatt.runtime import NAMES

    folders = sorted({p.parent for p in artifacts})
    wanted = {p.resolve() for p in artifacts}
    subjects = []
    for folder in folders:
        try:
            found = discover(folder, ("eager", *NAMES))
        except ValueError:
            continue
        subjects += [s for s in found if any(isinstance(a, Path) and a.resolve() in wanted
                                             for a in s.artifacts.values())]
    return subjects


def stage_eval(eval_dir: Path, artifacts: list[Path], staging: Path, *,
               limit: int | None = DEFAULT_LIMIT, seed: int = 0, verbose: bool = False,
               notice: Callable[[str], None] = lambda text: None) -> EvalSample:
    """Sample ``eval_dir``, compute eager fp32 top-1 on the host, and write the folder to push
    under ``staging``. ValueError (one line) when the images' classes match no artifact's
    labels or no artifact has a coordatt sidecar."""
    from coordatt._quiet import quiet
    from coordatt.eval.dataset import match_labels, scan
    from coordatt.eval.evaluate import sidecar_of
    from coordatt.preprocess import load_image
    from coordatt.runtime import open_session

    if limit is not None and (isinstance(limit, bool) or limit < 1):
        raise ValueError(f"--device-eval-limit must be a positive number of images, got {limit!r}")
    images = scan(eval_dir).sample(limit, seed)
    subjects = _subjects_of(artifacts)
    labelled = [(s, sidecar_of(s)) for s in subjects]
    labelled = [(s, side) for s, side in labelled if side and side.get("labels")]
    if not labelled:
        raise ValueError("--eval-dir on a phone needs artifacts with coordatt sidecars (labels "
                         "and preprocessing); re-export them with coordatt-export")
    errors, match = [], None
    for subject, sidecar in labelled:
        try:
            match = (subject, sidecar, *match_labels(images, sidecar["labels"]))
            break
        except ValueError as e:
            errors.append(str(e))
    if match is None:
        raise ValueError(f"--eval-dir: {errors[0]}")
    subject, sidecar, matched, unknown = match
    if unknown:
        notice(f"--eval-dir: {len(unknown)} class(es) match none of the labels "
               f"({', '.join(unknown[:3])}{' ...' if len(unknown) > 3 else ''}); the phone "
               "skips their images")
    names = dict((path, sidecar["labels"][index]) for path, index in matched)
    eager: dict[Path, int] = {}
    if len(labelled) > 1:
        notice("--eval-dir: the artifacts hold several models; eager_top1 is left empty, so "
               "the phone measures no agreement with eager")
    elif subject.network is None:
        notice(f"--eval-dir: no eager model for {subject.label} ({subject.eager_error}); the "
               "phone measures no agreement with eager")
    else:
        with quiet(verbose), open_session("eager", model=subject.network, threads=1) as session:
            for path, _ in matched:
                try:
                    x = load_image(path, sidecar["preprocess"]).numpy()
                except ValueError:
                    continue  # undecodable: the phone skips and counts it
                eager[path] = int(session.run(x).reshape(-1).argmax())
    folder = Path(staging) / FOLDER
    folder.mkdir(parents=True)
    table = io.StringIO()
    writer = csv.writer(table, lineterminator="\n")
    writer.writerow(["file", "class", "eager_top1"])
    for i, (path, folder_class) in enumerate(images.samples):
        # one flat folder: an index keeps equal names of two classes apart
        name = f"{i:05d}{path.suffix.lower()}"
        shutil.copyfile(path, folder / name)
        writer.writerow([name, names.get(path, folder_class), eager.get(path, "")])
    (folder / EVAL_LABELS).write_text(table.getvalue(), encoding="utf-8")
    config = {"dir": str(eval_dir), "limit": limit, "seed": seed,
              "images": len(images.samples), "eager_top1": len(eager),
              "model": subject.label if len(labelled) == 1 else None}
    return EvalSample(folder, len(images.samples), len(eager), config)
