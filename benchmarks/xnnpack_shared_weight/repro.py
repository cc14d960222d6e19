"""Minimal reproduction: an int8 (PT2E, XNNPACKQuantizer) program in which one Conv2d module is
applied to two tensors, so two quantized convolutions share one weight, lowered to the XNNPACK
delegate, then loaded in ExecuTorch's runtime: "Init failed for backend XnnpackBackend: 0x1".
With a copy of the conv per use, without bias, or in fp32 it loads. See README.md.

Usage: python repro.py [--copy] [--fp32] [--no-bias]
(self-contained: torch, torchao, executorch only)
"""

import argparse
import sys
import tempfile
from pathlib import Path

import torch
from torch import nn


class SharedConv(nn.Module):
    """One 1x1 conv applied to two inputs (as Coordinate Attention's shared encoder, applied to the
    H-pooled and the W-pooled maps one after the other)."""

    def __init__(self, copy_weight: bool, bias: bool = True) -> None:
        super().__init__()
        self.conv = nn.Conv2d(16, 8, 1, bias=bias)
        self.conv_b = nn.Conv2d(16, 8, 1, bias=bias) if copy_weight else self.conv
        if copy_weight:
            self.conv_b.load_state_dict(self.conv.state_dict())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a = self.conv(x[:, :, :, :1])  # [1, 8, 8, 1]
        b = self.conv_b(x[:, :, :1, :])  # [1, 8, 1, 8]
        return a * b  # [1, 8, 8, 8]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--copy", action="store_true", help="give each convolution its own weight")
    parser.add_argument("--fp32", action="store_true", help="lower without quantizing")
    parser.add_argument("--no-bias", action="store_true", help="convolutions without bias")
    args = parser.parse_args()

    from executorch.backends.xnnpack.partition.xnnpack_partitioner import XnnpackPartitioner
    from executorch.backends.xnnpack.quantizer.xnnpack_quantizer import (
        XNNPACKQuantizer,
        get_symmetric_quantization_config,
    )
    from executorch.exir import to_edge_transform_and_lower
    from executorch.runtime import Runtime
    from torchao.quantization.pt2e.quantize_pt2e import convert_pt2e, prepare_pt2e

    torch.manual_seed(0)
    model = SharedConv(args.copy, bias=not args.no_bias).eval()
    x = torch.randn(1, 16, 8, 8)
    if args.fp32:
        converted = model
    else:
        config = get_symmetric_quantization_config(is_per_channel=True)
        quantizer = XNNPACKQuantizer().set_global(config)
        prepared = prepare_pt2e(torch.export.export(model, (x,)).module(), quantizer)
        prepared(x)
        converted = convert_pt2e(prepared)
    program = torch.export.export(converted, (x,))
    edge = to_edge_transform_and_lower(program, partitioner=[XnnpackPartitioner()])
    print(edge.exported_program().graph_module.graph)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "shared_conv_int8.pte"
        path.write_bytes(edge.to_executorch().buffer)
        method = Runtime.get().load_program(str(path)).load_method("forward")
        out = method.execute([x])[0]
    ref = converted(x)
    print(f"loaded and ran; max |pte - PyTorch| = {(out - ref).abs().max().item():.3g}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
