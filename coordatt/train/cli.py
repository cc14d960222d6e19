"""``coordatt-train``: fine-tune a registered network (or a ``module:callable`` factory) on an
image folder of one subfolder per class; writes the best checkpoint (.safetensors), labels.txt and
a JSON summary that ``coordatt-export --weights ... --labels ...`` takes as they are. A thin layer
over coordatt.train.loop."""

from __future__ import annotations

import argparse
import sys

from ..checkpoints import CheckpointError
from ..errors import CoordattError, path_arg
from ..export.cli import parse_input_size
from ..registry import WIDTH_MULTS, list_models
from .loop import OPTIMIZERS, TrainConfig, TrainingInterrupted, TrainResult, train

__all__ = ["main", "build_parser"]


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="coordatt-train", description=__doc__,
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--data", type=path_arg, required=True,
                   help="image folder: DIR/<class>/*.jpg|png, or DIR/train/ and DIR/val/")
    p.add_argument("--model", default="mobilenetv2_ca",
                   help=f"one of {', '.join(list_models())}, or package.module:callable "
                        f"returning an nn.Module")
    p.add_argument("--width-mult", type=float,
                   help=f"one of {', '.join(map(str, WIDTH_MULTS))} (default 1.0; a factory gets "
                        f"it only when given)")
    p.add_argument("--weights", type=path_arg,
                   help="checkpoint to start from (mbv2_ca.pth, a state_dict or .safetensors); "
                        "its classifier is replaced when the class count differs")
    p.add_argument("--input-size", type=parse_input_size, default=(224, 224), help="N or HxW")
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--optimizer", default="adamw", help=f"one of {', '.join(OPTIMIZERS)}")
    p.add_argument("--lr", type=float, help="peak learning rate (default: 1e-3 adamw, 0.05 sgd)")
    p.add_argument("--weight-decay", type=float,
                   help="default: 0.05 adamw, 4e-5 sgd; never on BN parameters or biases")
    p.add_argument("--warmup-epochs", type=float, default=0.0,
                   help="linear warm-up before the cosine decay")
    p.add_argument("--val-split", type=float, default=0.2,
                   help="fraction of each class held out for validation (without DIR/val/)")
    p.add_argument("--seed", type=int, default=0, help="split, init, augmentation and order")
    p.add_argument("--workers", type=int, default=0, help="DataLoader worker processes")
    p.add_argument("--threads", type=int, help="torch CPU threads (default: torch's choice)")
    p.add_argument("--freeze-backbone", action="store_true",
                   help="train only the classifier (backbone BN statistics kept)")
    p.add_argument("--output-dir", type=path_arg,
                   help="where to write (default: runs/<model>_<width>)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing checkpoint")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.add_argument("-v", "--verbose", action="store_true",
                   help="show the traceback of an unexpected failure")
    return p


def _report(result: TrainResult) -> None:
    if result.skipped:
        print(f"skipped {len(result.skipped)} unreadable image(s), e.g. {result.skipped[0]}",
              file=sys.stderr)
    print(f"best: epoch {result.best_epoch}, val accuracy {result.best_val_acc:.1%} "
          f"({result.seconds:.0f} s)")
    print(f"checkpoint: {result.checkpoint}\nlabels:     {result.labels}\n"
          f"summary:    {result.summary}")
    size = f"{result.input_size[0]}x{result.input_size[1]}"
    width = f" --width-mult {result.width_mult}" if result.width_mult is not None else ""
    print(f"export: coordatt-export --format pte --model {result.model_name}{width} "
          f"--input-size {size} --weights {result.checkpoint} --labels {result.labels}")


def _check_output_dir(args) -> None:
    """ValueError when the run's folder (--output-dir, default runs/<model>_<width>) could not
    be written: a file, under a file, not writable."""
    from ..bench.paths import check_output_dir
    from .outputs import run_paths

    width = args.width_mult if args.width_mult is not None or ":" in args.model else 1.0
    folder = run_paths(args.output_dir, args.model, width, args.input_size, 1).output_dir
    check_output_dir(folder, names=(), example="runs/mine")


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    config = TrainConfig(
        data=args.data, model=args.model, width_mult=args.width_mult, weights=args.weights,
        input_size=args.input_size, epochs=args.epochs, batch_size=args.batch_size, lr=args.lr,
        weight_decay=args.weight_decay, optimizer=args.optimizer,
        warmup_epochs=args.warmup_epochs, val_split=args.val_split, seed=args.seed,
        workers=args.workers, threads=args.threads, output_dir=args.output_dir,
        overwrite=args.overwrite, freeze_backbone=args.freeze_backbone)
    try:
        _check_output_dir(args)  # before minutes of training, not after
        result = train(config, progress=not args.quiet)
    except (ValueError, CheckpointError, CoordattError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except TrainingInterrupted as e:
        r = e.result
        if r.checkpoint is None:
            print("interrupted before the first epoch ended; nothing was written",
                  file=sys.stderr)
        else:
            print(f"interrupted; the best checkpoint so far (epoch {r.best_epoch}, val accuracy "
                  f"{r.best_val_acc:.1%}) is kept at {r.checkpoint}, labels at {r.labels}",
                  file=sys.stderr)
        return 130
    except KeyboardInterrupt:
        print("interrupted before training started; nothing was written", file=sys.stderr)
        return 130
    except Exception as e:  # one line, the traceback behind -v
        if args.verbose:
            raise
        first = (str(e).strip().splitlines() or [""])[0][:200]
        print(f"error: training failed: {type(e).__name__}: {first} (run with -v for the "
              f"traceback)", file=sys.stderr)
        return 1
    _report(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
