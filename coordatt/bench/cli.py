"""``coordatt-bench``: latency of the same model on every runtime, measured one way, shown as a
table, results.json, results.csv and a chart. A thin layer over coordatt.bench.harness."""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
from pathlib import Path

from ..errors import path_arg

# Everything else is imported inside main(), under its Ctrl-C handler: importing torch takes
# seconds, and an interrupt then must end with one line, not a traceback.

__all__ = ["main"]


def _names(text: str) -> tuple[str, ...]:
    return tuple(n.strip() for n in text.split(",") if n.strip())


def _ints(text: str) -> tuple[int, ...]:
    try:
        values = tuple(int(n) for n in _names(text))
    except ValueError:
        raise argparse.ArgumentTypeError(f"bad thread list {text!r}; use e.g. 1,2") from None
    if 0 in values:
        raise argparse.ArgumentTypeError(
            "0 threads is refused: ExecuTorch reads 0 as half the cores and ONNX Runtime as its "
            "own default, so 0 has no single meaning; give counts >= 1, e.g. 1,2")
    if any(v < 1 for v in values):
        raise argparse.ArgumentTypeError(f"bad thread list {text!r}; counts are >= 1, e.g. 1,2")
    return values


def _count(least: int, flag: str):
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = least - 1
        if value < least:
            raise argparse.ArgumentTypeError(f"{flag} must be an integer >= {least}, "
                                             f"got {text!r}")
        return value
    return parse


def _seconds(flag: str, least: str = "above 0"):
    """A parser of a finite number of seconds, above 0 or (``least="0 or more"``) >= 0."""
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if not math.isfinite(value) or value < 0 or (value == 0 and least == "above 0"):
            raise argparse.ArgumentTypeError(f"{flag} must be a finite number of seconds "
                                             f"{least}, got {text!r}")
        return value
    return parse


def build_parser() -> argparse.ArgumentParser:
    from ..export.cli import parse_input_size
    from ..registry import WIDTH_MULTS, list_models
    from ..runtime import DEFAULT_RUNTIMES
    from ..runtime import NAMES as RUNTIMES

    p = argparse.ArgumentParser(prog="coordatt-bench", description=__doc__,
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--models", type=_names,
                   help=f"comma-separated, from {', '.join(list_models())}, or factories "
                        f"package.module:callable (default: mobilenetv2_ca; with --artifacts "
                        f"alone: every artifact that folder holds; with --from-device-log: the "
                        f"model a log that does not name one measured)")
    p.add_argument("--runtimes", type=_names, default=DEFAULT_RUNTIMES,
                   help=f"comma-separated, from {', '.join(RUNTIMES)}")
    p.add_argument("--threads", type=_ints, default=(1,), help="comma-separated, e.g. 1,2")
    p.add_argument("--warmup", type=int, default=10)
    p.add_argument("--iters", type=int, default=50, help="timed runs per runtime")
    p.add_argument("--block-size", type=int, default=10,
                   help="timed runs per round-robin block")
    p.add_argument("--width-mult", type=float,
                   help=f"one of {', '.join(map(str, WIDTH_MULTS))} (default 1.0)")
    p.add_argument("--input-size", type=parse_input_size, default=(224, 224), help="N or HxW")
    p.add_argument("--weights", type=path_arg, help="checkpoint for the (single) model")
    p.add_argument("--artifacts", type=path_arg,
                   help="where artifacts are found, or exported when missing (default: "
                        "artifacts); given without --models: measure every artifact it holds, "
                        "by its sidecar, of any model")
    p.add_argument("--output-dir", type=path_arg,
                   help="where results go (default: bench_results; with --from: its folder)")
    p.add_argument("--profile", action="store_true",
                   help="print a per-operator breakdown (and what each attention network adds "
                   "over the same network without it), and write it to profile.json")
    p.add_argument("--from", dest="from_json", type=path_arg, metavar="RESULTS_JSON",
                   help="re-render table and chart from a results.json, without measuring")
    p.add_argument("--device", default="host", choices=("host", "android"),
                   help="measure here, or on a phone over adb with the demo app")
    p.add_argument("--serial", help="adb serial of the phone (when several are connected), or "
                                    "several, comma-separated: one process per phone, in "
                                    "parallel")
    p.add_argument("--all-devices", action="store_true",
                   help="run on every phone 'adb devices' lists, in parallel")
    p.add_argument("--device-rounds", type=_count(1, "--device-rounds"), metavar="R",
                   help="blocks per artifact on the phone, interleaved across artifacts; "
                        "None: iters/10, 1 to 10")
    p.add_argument("--device-cooldown", type=_seconds("--device-cooldown", "0 or more"),
                   default=0.0, metavar="SECONDS",
                   help="the phone sleeps this long between blocks")
    p.add_argument("--device-eval-limit", type=_count(1, "--device-eval-limit"), default=500,
                   metavar="N", help="with --eval-dir on a phone: push a seeded sample of at "
                                     "most N images")
    p.add_argument("--farm-spec", type=path_arg, metavar="OUT_DIR",
                   help="with --device android: write the run as an AWS Device Farm custom "
                        "test spec (testspec.yml, payload zip, manifest, README) instead of "
                        "running on a phone here")
    p.add_argument("--apk", type=path_arg, help="install this demo app APK first")
    p.add_argument("--device-timeout", type=_seconds("--device-timeout"), default=600.0,
                   help="seconds the phone may take in all: choosing it (15 s at most, before "
                        "any export), then install, push, every adb call and the wait for the "
                        "app's results, over all thread counts (each phone its own)")
    p.add_argument("--from-device-log", type=path_arg, action="append", metavar="FILE",
                   help="fold a device run into the results: executor_runner or "
                        "onnxruntime_perf_test output, minibench or the app's "
                        "benchmark_results.json (repeatable)")
    p.add_argument("--eval-dir", type=path_arg, metavar="DIR",
                   help="labelled images (as coordatt-eval --data: one subfolder per class, "
                        "or a flat folder with labels.csv): top-1 and agreement with eager "
                        "beside each host row's latency")
    p.add_argument("--eval-limit", type=int, metavar="N",
                   help="with --eval-dir: a seeded random sample of N images (default: all)")
    p.add_argument("-v", "--verbose", action="store_true", help="show third-party output")
    return p


class _Progress:
    """A one-line progress bar on a terminal; milestones only otherwise."""

    def __init__(self) -> None:
        self.tty = sys.stderr.isatty()
        self.last = None

    def __call__(self, label: str, done: int, total: int) -> None:
        if self.tty:
            filled = int(30 * done / max(total, 1))
            sys.stderr.write(f"\r  {label:<44} [{'#' * filled}{'.' * (30 - filled)}] "
                             f"{done}/{total}\x1b[K")
            sys.stderr.flush()
        elif label != self.last:
            print(f"  {label}", file=sys.stderr)
        self.last = label

    def end(self) -> None:
        if self.tty:
            sys.stderr.write("\r\x1b[K")


def _note(text: str) -> None:
    print(f"note: {text}", file=sys.stderr)


def _render(doc: dict, out_dir: Path) -> bool:
    """Print the table and write the files; False when ``out_dir`` failed and the results
    went to a new temporary folder instead (said on stderr): samples are never lost."""
    from . import report

    print(report.render_table(doc))
    try:
        written = report.write_results(doc, out_dir, notice=_note)
    except OSError as e:
        fallback = Path(tempfile.mkdtemp(prefix="coordatt-bench-"))
        written = report.write_results(doc, fallback, notice=_note)
        print(f"error: cannot write results to {out_dir} ({e.strerror or e}); saved them to "
              f"{fallback} instead", file=sys.stderr)
        return False
    print(f"\nwritten: {', '.join(str(p) for p in written.values())}")
    return True


def _check_inputs(args) -> None:
    """Stat every path bench will read or write before anything is opened or measured."""
    from ..errors import check_regular_file
    from .paths import OUTPUT_NAMES, check_folder, check_output_dir

    if args.from_json is not None:
        check_regular_file(args.from_json, "--from")
    for path in args.from_device_log or []:
        check_regular_file(path, "--from-device-log")
    if args.weights is not None:
        check_regular_file(args.weights, "--weights")
    if args.artifacts is not None and (args.models is None or args.artifacts.exists()):
        check_folder(args.artifacts, "--artifacts")
    if args.eval_limit is not None and args.eval_dir is None:
        raise ValueError("--eval-limit samples --eval-dir's images; give --eval-dir too")
    if args.eval_dir is not None:
        if args.from_json is not None or args.from_device_log:
            raise ValueError("--eval-dir evaluates what is measured now; --from and "
                             "--from-device-log measure nothing")
        if args.device == "android" and args.eval_limit is not None:
            raise ValueError("--eval-limit samples the host's evaluation; on a phone use "
                             "--device-eval-limit N (default 500)")
        check_folder(args.eval_dir, "--eval-dir")
    if args.device != "android":
        given = [f for f, v in (("--serial", args.serial), ("--all-devices", args.all_devices),
                                ("--farm-spec", args.farm_spec),
                                ("--device-rounds", args.device_rounds)) if v]
        if given:
            raise ValueError(f"{given[0]} is for phones; add --device android")
    elif args.all_devices and args.serial:
        raise ValueError("--serial and --all-devices both choose phones; give one of them")
    profile = ("profile.json",) if args.profile else ()  # --profile writes it beside them
    check_output_dir(_output_dir(args), OUTPUT_NAMES + profile)
    if args.farm_spec is not None:
        check_output_dir(args.farm_spec, names=(), example="farm_job", flag="--farm-spec")


def _output_dir(args) -> Path:
    if args.output_dir is not None:
        return args.output_dir
    return args.from_json.parent if args.from_json is not None else Path("bench_results")


def _fold(args) -> int:
    """--from and --from-device-log: re-render, adding device rows; nothing is measured."""
    from . import report
    from .device_logs import load_device_log

    if args.from_json is not None:
        doc = report.load_results(args.from_json)
        for line in report.recompute_statistics(doc):
            _note(line)
    else:
        doc = report.make_results(report.machine_info(), {}, [])
    hint = args.models[0] if args.models and len(args.models) == 1 else None
    for path in args.from_device_log or []:
        rows = load_device_log(path, model=hint)
        if any(r.get("model") is None for r in rows):
            raise ValueError(f"{path} does not name the model it measured; pass --models NAME")
        doc["results"] += rows
    report.validate_results(doc)
    return 0 if _render(doc, _output_dir(args)) else 1


def main(argv: list[str] | None = None) -> int:
    try:
        return _main(argv)
    except KeyboardInterrupt as e:
        rows = getattr(e, "rows", None)
        if rows:  # a device run: the thread counts finished before Ctrl-C
            _write_measured(rows, None)
            print(f"interrupted: the {len(rows)} row(s) finished before are kept",
                  file=sys.stderr)
        else:
            print("interrupted: nothing was measured", file=sys.stderr)
        return 130


_OUT: dict = {}  # the output folder of the run in progress, for an interrupt's rows


def _write_measured(rows: list[dict], config, device_setup: dict | None = None) -> bool:
    from . import report

    setup = {"isolation": "one process per runtime and thread count",
             "input": "chelsea.jpg, preprocessed as each artifact's sidecar says (checked "
                      "against its identity and input shape)"}
    if config is not None:
        setup = {"warmup": config.warmup, "iters": config.iters,
                 "block_size": config.block_size, **setup}
        if config.eval_dir is not None:
            setup["eval"] = {"dir": str(config.eval_dir), "limit": config.eval_limit,
                             "seed": 0 if config.eval_limit is not None else None}
    setup.update(device_setup or {})  # a phone run: its isolation, rounds, run ids, eval sample
    doc = report.make_results(report.machine_info(), setup, rows)
    return _render(doc, _OUT.get("dir", Path("bench_results")))


def _main(argv: list[str] | None) -> int:
    args = build_parser().parse_args(argv)
    from ..checkpoints import CheckpointError
    from ..errors import CoordattError
    from .android import AdbError
    from .harness import BenchConfig, run_benchmark, run_on_android
    from .profile import render_profiles, write_profiles

    try:
        _check_inputs(args)
        _OUT["dir"] = _output_dir(args)
        if args.from_json is not None or args.from_device_log:
            return _fold(args)
        discover = args.models is None and args.artifacts is not None
        config = BenchConfig(
            models=None if discover else (args.models or ("mobilenetv2_ca",)),
            runtimes=args.runtimes, threads=args.threads,
            warmup=args.warmup, iters=args.iters, block_size=args.block_size,
            width_mult=args.width_mult, input_size=args.input_size, weights=args.weights,
            artifacts_dir=args.artifacts or Path("artifacts"), profile=args.profile,
            verbose=args.verbose, eval_dir=args.eval_dir, eval_limit=args.eval_limit)
        device_setup: dict = {}
        if args.device == "android":
            options = dict(apk=args.apk, timeout_s=args.device_timeout,
                           rounds=args.device_rounds,
                           cooldown_ms=round(args.device_cooldown * 1000),
                           eval_limit=args.device_eval_limit, notice=_note)
            if args.farm_spec is not None:
                from .android.bench import write_farm_spec

                written = write_farm_spec(config, args.farm_spec, **options)
                print(f"written: {', '.join(str(p) for p in written.values())}")
                return 0
            rows, profiles = run_on_android(config, serial=args.serial,
                                            all_devices=args.all_devices, setup=device_setup,
                                            **options), {}
        else:
            progress = _Progress()
            rows, profiles = run_benchmark(
                config, progress=progress,
                notice=lambda text: print(f"warning: {text}", file=sys.stderr))
            progress.end()
    except (ValueError, CheckpointError, CoordattError, AdbError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    if not rows:  # no artifact matched: an empty results.json must not replace an earlier one
        print(f"error: nothing to measure: {config.artifacts_dir} holds no artifact for "
              f"--runtimes {','.join(args.runtimes)}; nothing was written", file=sys.stderr)
        return 2
    saved = _write_measured(rows, config, device_setup)
    if profiles:
        from .report import machine_info

        print()
        print(render_profiles(profiles))
        try:
            path = write_profiles(profiles, _OUT["dir"] / "profile.json", machine_info())
            print(f"\nwritten: {path}")
        except OSError as e:
            print(f"error: could not write profile.json: {e}", file=sys.stderr)
            saved = False
    if any((r["error"] or "").startswith("interrupted") for r in rows):
        print("interrupted: what was measured is kept", file=sys.stderr)
        return 130
    failed = [r for r in rows if r["error"] is not None]
    if len(failed) == len(rows):
        print(f"error: no row was measured: {len(rows)} failed or were skipped (the table "
              f"says why)", file=sys.stderr)
        return 1
    if failed:
        print(f"note: {len(failed)} of {len(rows)} rows failed or were skipped (the table says "
              f"why)", file=sys.stderr)
    flagged = [r for r in rows if r.get("flagged")]
    if flagged:  # a fast wrong runtime is never read as a result
        print(f"error: {len(flagged)} row(s) flagged on the phone ({flagged[0]['flagged']}); "
              f"their timings are kept but are not results (the table marks them)",
              file=sys.stderr)
        return 1
    return 0 if saved else 1


if __name__ == "__main__":
    sys.exit(main())
