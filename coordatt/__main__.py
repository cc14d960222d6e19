"""``python -m coordatt``: build a model and print its summary (parameters, multiply-adds, a
forward pass)."""

from __future__ import annotations

import argparse
import sys
import time

import torch

from . import WIDTH_MULTS, count_macs, count_params, create_model, list_models
from .checkpoints import CheckpointError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m coordatt", description=__doc__,
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--model", default="mobilenetv2_ca", help=f"one of {list_models()}")
    parser.add_argument("--width-mult", type=float, default=1.0, help=f"one of {WIDTH_MULTS}")
    parser.add_argument("--input-size", type=int, nargs=2, default=(224, 224), metavar=("H", "W"))
    parser.add_argument("--weights", help="checkpoint (.pth / .safetensors), e.g. mbv2_ca.pth")
    args = parser.parse_args(argv)
    try:
        model = create_model(args.model, width_mult=args.width_mult, weights=args.weights).eval()
    except (ValueError, CheckpointError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    h, w = args.input_size
    x = torch.randn(1, 3, h, w)
    with torch.no_grad():
        model(x)  # warm-up
        start = time.perf_counter()
        logits = model(x)
        ms = (time.perf_counter() - start) * 1e3
    n_attn = sum(type(m).__name__ == "CoordAtt" for m in model.modules())
    source = f"weights: {args.weights}" if args.weights else "random init"
    print(f"{args.model} {args.width_mult}x  ({source})")
    print(f"  parameters      {count_params(model):,}")
    print(f"  multiply-adds   {count_macs(model, (h, w)) / 1e6:.1f} M at {h}x{w}")
    print(f"  CoordAtt blocks {n_attn}")
    print(f"  forward         [1, 3, {h}, {w}] -> {list(logits.shape)} in {ms:.1f} ms "
          f"(eager, {torch.get_num_threads()} threads)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
