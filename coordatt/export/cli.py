"""``coordatt-export``: write a registered network (MobileNetV2-CA by default) or your own
(--model pkg.module:factory, --weights, --labels) as ExecuTorch .pte, ONNX or Core ML, each
verified against PyTorch. A thin layer over coordatt.export.pipeline."""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
import threading
import traceback
import warnings
from collections.abc import Iterator
from pathlib import Path

from ..checkpoints import CheckpointError
from ..errors import CoordattError, ExportError, PartialExport, path_arg
from ..registry import WIDTH_MULTS, list_models
from .int8_recipe import DEFAULT_INT8_RECIPE, INT8_RECIPES
from .pipeline import FORMATS, INT8_FORMATS, QUANTIZE, ExportConfig, ExportResult, export

__all__ = ["main", "parse_input_size", "render_table"]


def parse_input_size(text: str) -> tuple[int, int]:
    """``224`` -> (224, 224); ``256x192`` -> (256, 192) (H x W)."""
    try:
        parts = [int(p) for p in text.lower().split("x")]
    except ValueError:
        parts = []
    if len(parts) == 1:
        parts *= 2
    if len(parts) != 2 or min(parts) < 1:
        raise argparse.ArgumentTypeError(
            f"bad input size {text!r}; use N or HxW, e.g. 224 or 256x192")
    return parts[0], parts[1]


def _triple(text: str) -> tuple[float, float, float]:
    try:
        values = tuple(float(v) for v in text.split(","))
    except ValueError:
        values = ()
    if len(values) != 3:
        raise argparse.ArgumentTypeError(f"bad value {text!r}; use three numbers R,G,B, "
                                         f"e.g. 0.485,0.456,0.406")
    return values


def _size(n: int) -> str:
    return f"{n / 1e6:.1f} MB" if n >= 1e5 else f"{n / 1e3:.0f} kB"


def _ops(r: ExportResult) -> str:
    rep = r.report
    if r.target.format in ("pte", "tflite"):  # what XNNPACK took, what stayed outside
        n = rep["delegates"]
        text = (f"{n} delegate{'s' if n != 1 else ''}, {rep['delegated_ops']} in / "
                f"{rep['non_delegated_ops']} out")
        names = sorted(set(rep.get("non_delegated_op_names") or []))
        if rep["non_delegated_ops"] and names and r.target.backend in ("xnnpack", "litert"):
            text += f" ({', '.join(n.removeprefix('aten::') for n in names[:3])})"
        return text
    if r.target.format == "onnx":
        return f"{rep['nodes']} nodes" + (f" ({rep['qdq_nodes']} Q/DQ)" if "qdq_nodes" in rep
                                          else "")
    return f"{rep['ops']} MIL ops"


def _check(r: ExportResult) -> str:
    v = r.verification
    if v.get("status") == "skipped":
        return "not verified"
    if v.get("status") == "spec-only":
        return "spec ok; numbers need macOS"
    if r.target.precision == "int8":
        return f"SQNR {v['sqnr_db']:.1f} dB, top-1 {v['top1_agreement']:.0%}"
    return f"max diff {v['max_rel_diff']:.1e} (rel)"


def render_table(results: list[ExportResult]) -> str:
    rows = [("artifact", "size", "delegated ops", "check vs PyTorch", "seconds")]
    rows += [(r.target.path.name, _size(r.size_bytes), _ops(r), _check(r), f"{r.seconds:.1f}")
             for r in results]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.ljust(w) if i != 1 else c.rjust(w) for i, (c, w) in
                       enumerate(zip(row, widths))).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="coordatt-export", description=__doc__,
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--format", required=True,
                   help=f"one of {', '.join(FORMATS)}, or several: pte,onnx")
    p.add_argument("--model", default="mobilenetv2_ca",
                   help=f"one of {', '.join(list_models())}, or your own factory as "
                        f"package.module:callable (the current folder is importable)")
    p.add_argument("--width-mult", type=float,
                   help=f"one of {', '.join(map(str, WIDTH_MULTS))} (default: 1.0; a factory "
                        f"gets it only when given)")
    p.add_argument("--input-size", type=parse_input_size, default=(224, 224),
                   help="N or HxW (static shape of the artifact)")
    p.add_argument("--weights", type=path_arg,
                   help="checkpoint: mbv2_ca.pth, a state_dict or .safetensors (e.g. from "
                        "coordatt-train); its class count is read from it")
    p.add_argument("--num-classes", type=int,
                   help="classifier size (default: the checkpoint's, else the model's)")
    p.add_argument("--labels", type=path_arg,
                   help="class names, one a line, UTF-8 (default: ImageNet's for 1000 classes)")
    p.add_argument("--name", help="artifact name prefix: letters, digits, _ . - (default: the "
                   "model's name)")
    p.add_argument("--mean", type=_triple, help="R,G,B normalisation mean (default: the "
                   "model's, else ImageNet's)")
    p.add_argument("--std", type=_triple, help="R,G,B normalisation std")
    p.add_argument("--crop-pct", type=float,
                   help="center-crop fraction of the resized image (default 0.875)")
    p.add_argument("--quantize", default="none", help=f"one of {', '.join(QUANTIZE)}; int8 for "
                   f"{', '.join(INT8_FORMATS)} (all: every one of those)")
    p.add_argument("--calibration-dir", type=path_arg,
                   help="folder of JPEG/PNG photos for int8 calibration")
    p.add_argument("--int8-recipe", default=DEFAULT_INT8_RECIPE, choices=INT8_RECIPES,
                   help="the .pte's int8 recipe: xnnpack (XNNPACKQuantizer as it is), ca-aware "
                   "(Coordinate Attention's pooling, h-swish, sigmoids and gates annotated on "
                   "top of it) or ca-fp32-gates (the same, with CA's gates kept fp32)")
    p.add_argument("--backend", default="xnnpack", help="pte backend: xnnpack or portable")
    p.add_argument("--coreml-precision", default="fp16", help="fp16 or fp32")
    p.add_argument("--output-dir", default="artifacts")  # a str: "" must not become "."
    p.add_argument("--no-verify", action="store_true",
                   help="skip running each artifact against PyTorch")
    p.add_argument("--overwrite", action="store_true",
                   help="replace existing files exported from other settings")
    p.add_argument("-v", "--verbose", action="store_true",
                   help="show third-party output (toolchain logs and warnings)")
    return p


@contextlib.contextmanager
def _interruptible() -> Iterator[None]:
    """SIGTERM ends an export as Ctrl-C does (KeyboardInterrupt: temporaries removed); a second
    signal while that cleanup runs is ignored, so the cleanup is never cut short."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    fired = []

    def handler(signum, frame):
        if not fired:
            fired.append(signum)
            raise KeyboardInterrupt

    # a signal the parent set to be ignored (nohup, a background job) stays ignored
    saved = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)
             if signal.getsignal(sig) is not signal.SIG_IGN}
    try:
        yield
    finally:
        for sig, previous in saved.items():
            signal.signal(sig, previous)


def main(argv: list[str] | None = None) -> int:
    try:
        with _interruptible():
            return _main(argv)
    except KeyboardInterrupt:  # before or after the export proper (parsing, the table)
        print("interrupted; no partial artifact was left", file=sys.stderr)
        return 130


def _main(argv: list[str] | None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    config = ExportConfig(
        model=args.model, width_mult=args.width_mult, input_size=args.input_size,
        weights=args.weights, num_classes=args.num_classes, labels=args.labels, name=args.name,
        mean=args.mean, std=args.std, crop_pct=args.crop_pct, quantize=args.quantize,
        calibration_dir=args.calibration_dir, int8_recipe=args.int8_recipe,
        backend=args.backend, coreml_precision=args.coreml_precision,
        output_dir=Path(args.output_dir) if args.output_dir.strip() else args.output_dir,
        verify=not args.no_verify, overwrite=args.overwrite)
    with warnings.catch_warnings():
        warnings.simplefilter("always", UserWarning)
        warnings.showwarning = lambda msg, *a, **k: print(f"warning: {msg}", file=sys.stderr)
        try:
            results = export(config, [f.strip() for f in args.format.split(",")],
                             verbose=args.verbose)
        except PartialExport as e:  # the other formats were written: show them, then why not
            if e.results:
                print()
                print(render_table(e.results))
                print(f"\nwritten to {config.output_dir}/ with a .json sidecar each")
            for failure in e.failures:
                print(f"error: {failure}", file=sys.stderr)
            return 1 if any("verification failed" in f for f in e.failures) else 2
        except ExportError as e:
            if args.verbose and e.__cause__ is not None:  # e.g. torch.export's own trace
                traceback.print_exception(e.__cause__)
            print(f"error: {e}", file=sys.stderr)
            return 1 if "verification failed" in str(e) else 2
        except (ValueError, CheckpointError, CoordattError) as e:
            print(f"error: {e}", file=sys.stderr)
            return 2
        except KeyboardInterrupt:
            print("interrupted; no partial artifact was left", file=sys.stderr)
            return 130
        except Exception as e:  # a toolchain failure: one line, the traceback behind -v
            if args.verbose:
                raise
            first = (str(e).strip().splitlines() or [""])[0][:200]
            print(f"error: export failed: {type(e).__name__}: {first} (run with -v for the "
                  f"traceback); no partial artifact was left", file=sys.stderr)
            return 1
    print()
    print(render_table(results))
    print(f"\nwritten to {config.output_dir}/ with a .json sidecar each")
    if config.weights is None and ":" not in config.model:
        print("note: no --weights: the model is untrained (random init), its predictions are "
              "meaningless; export mbv2_ca.pth with --weights for a real classifier")
    return 0


if __name__ == "__main__":
    sys.exit(main())
