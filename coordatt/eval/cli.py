"""``coordatt-eval``: top-1/top-5 accuracy of every artifact in a folder on labelled images,
agreement with eager PyTorch and, for int8, the drop against fp32; or (``--check``) an artifact's
verdict on its check file, in its own runtime. A thin layer over coordatt.eval."""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from ..errors import path_arg

# Everything else is imported inside main(): importing torch takes seconds, and an interrupt
# then must end with one line, not a traceback.

__all__ = ["main"]


def _names(text: str) -> tuple[str, ...]:
    return tuple(n.strip() for n in text.split(",") if n.strip())


def build_parser() -> argparse.ArgumentParser:
    from ..runtime import DEFAULT_RUNTIMES
    from ..runtime import NAMES as RUNTIMES

    p = argparse.ArgumentParser(prog="coordatt-eval", description=__doc__,
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    what = p.add_mutually_exclusive_group(required=True)
    what.add_argument("--data", type=path_arg, metavar="DIR",
                      help="labelled images: one subfolder per class named as the model's "
                           "labels (ImageNet synset folders n01440764 work for ImageNet models; "
                           "a folder with train/ and val/ is evaluated on val/), or a flat "
                           "folder with a labels CSV (file,class)")
    what.add_argument("--check", type=path_arg, nargs="+", metavar="ARTIFACT",
                      help="verify artifacts (or every artifact of a folder) with their check "
                           "files, in their own runtimes, by the export's own rule")
    p.add_argument("--labels-csv", type=path_arg, metavar="FILE",
                   help="file,class rows for a flat --data folder (DIR/labels.csv when there "
                        "is one)")
    p.add_argument("--artifacts", type=path_arg, default=Path("artifacts"), metavar="DIR",
                   help="the artifacts to evaluate, found by their sidecars")
    p.add_argument("--runtimes", type=_names, default=DEFAULT_RUNTIMES,
                   help=f"comma-separated, from {', '.join(RUNTIMES)}")
    p.add_argument("--limit", type=int, metavar="N",
                   help="evaluate a seeded random sample of N images (default: all)")
    p.add_argument("--seed", type=int, default=0, help="the seed of --limit's sample")
    p.add_argument("--threads", type=int,
                   help="threads per runtime (default: each runtime's own)")
    p.add_argument("--output-dir", type=path_arg, default=Path("eval_results"),
                   help="where eval.json and eval.csv go")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("-v", "--verbose", action="store_true", help="show third-party output")
    return p


def _note(text: str) -> None:
    print(f"note: {text}", file=sys.stderr)


def _check(args) -> int:
    from .check import check_artifacts
    from .report import render_check_table

    if args.threads is not None and args.threads < 1:
        raise ValueError(f"--threads must be a positive integer, got {args.threads}")
    rows = [r.to_dict() for r in check_artifacts(args.check, threads=args.threads,
                                                 verbose=args.verbose)]
    print(render_check_table(rows))
    errors = [r for r in rows if r["status"] == "error"]
    failed = [r for r in rows if r["status"] == "failed"]
    for row in errors:
        print(f"error: {row['message']}", file=sys.stderr)
    if errors:
        return 2
    if failed:
        print(f"error: {len(failed)} of {len(rows)} artifact(s) failed their check",
              file=sys.stderr)
        return 1
    if not any(r["status"] == "passed" for r in rows):
        # the table cuts long cells: the first reason whole
        more = f" (and {len(rows) - 1} more: the table says why)" if len(rows) > 1 else ""
        print(f"error: no artifact was checked: {rows[0]['message']}{more}", file=sys.stderr)
        return 1
    return 0


def _evaluate(args) -> int:
    from ..bench.paths import check_output_dir
    from .evaluate import EvalConfig, evaluate, validate
    from .report import OUTPUT_NAMES, render_table, write_eval

    config = EvalConfig(data=args.data, artifacts_dir=args.artifacts, runtimes=args.runtimes,
                        labels_csv=args.labels_csv, limit=args.limit, seed=args.seed,
                        threads=args.threads, verbose=args.verbose)
    validate(config)  # before the output folder is looked at
    check_output_dir(args.output_dir, OUTPUT_NAMES, example="eval_results")
    doc = evaluate(config, progress=not args.no_progress and sys.stderr.isatty(), notice=_note)
    print(render_table(doc))
    for row in doc["results"]:  # the table cuts long cells: the whole reason, once
        if (check := row.get("check")) and check not in ("passed", "no check file"):
            _note(f"{Path(row['artifact']).name}: check {check}")
    try:
        written = write_eval(doc, args.output_dir)
    except OSError as e:  # a full disk, a folder made read-only meanwhile: keep the results
        fallback = Path(tempfile.mkdtemp(prefix="coordatt-eval-"))
        write_eval(doc, fallback)
        print(f"error: cannot write results to {args.output_dir} ({e.strerror or e}); saved "
              f"them to {fallback}", file=sys.stderr)
        return 1
    print(f"written: {', '.join(str(p) for p in written.values())}")
    rows = doc["results"]
    if all(r["error"] is not None for r in rows):
        print(f"error: no row was evaluated: {len(rows)} failed or were skipped (the table "
              f"says why)", file=sys.stderr)
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        from ..checkpoints import CheckpointError
        from ..errors import CoordattError

        try:
            if args.check is not None:
                return _check(args)
            return _evaluate(args)
        except (ValueError, CheckpointError, CoordattError) as e:
            print(f"error: {e}", file=sys.stderr)
            return 2
    except KeyboardInterrupt:
        print("interrupted: nothing was written", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
