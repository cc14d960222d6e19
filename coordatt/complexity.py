"""Parameter and multiply-add counts, for summaries and fidelity tests."""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

__all__ = ["count_params", "count_macs"]

_aten = torch.ops.aten


def count_params(model: nn.Module) -> int:
    """Number of trainable parameters (BN running statistics excluded)."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def _pool_flops(x_shape, *args, out_shape=None, **kwargs) -> int:
    # one add per pooled input element, counted as one multiply-add (2 FLOPs), as thop counts
    # pooling; the paper's 310M for MobileNetV2-CA includes CA's two directional poolings
    return 2 * math.prod(x_shape)


def count_macs(model: nn.Module, input_size: tuple[int, int] = (224, 224)) -> int:
    """Multiply-adds of one forward pass on a [1, 3, H, W] input.

    Convolutions and matmuls are counted by PyTorch's FLOP counter (2 FLOPs per multiply-add);
    average poolings count one multiply-add per input element. Activations and element-wise
    products are not counted, as in the MobileNet and Coordinate Attention papers.
    """
    was_training = model.training
    model.eval()
    mapping = {_aten.avg_pool2d: _pool_flops, _aten.mean: _pool_flops}
    try:
        with torch.no_grad(), FlopCounterMode(display=False, custom_mapping=mapping) as counter:
            model(torch.zeros(1, 3, *input_size))
    finally:
        model.train(was_training)
    return counter.get_total_flops() // 2
