"""Coordinate Attention (Hou, Zhou, Feng, CVPR 2021, arXiv 2103.02907) and small building blocks.

CoordAtt factorises global pooling into two 1-D poolings, along W (giving C x H x 1) and along H
(C x 1 x W), encodes both with one shared 1x1 conv + BN + h-swish, splits them back and turns each
into a per-direction gate (paper Eq. 1-6): ``y = x * a_h * a_w``.

It is written for export: static pooling kernels taken from the input's (static) shape instead of
``AdaptiveAvgPool2d((None, 1))``, which ONNX cannot export and which lowers to single-axis ``mean``;
slicing instead of ``split``. Lowered to ExecuTorch's XNNPACK backend, single-axis ``mean`` and
``split_with_sizes`` stay outside the delegate and cut the network into pieces with portable
kernels between them; ``avg_pool2d``, slicing and transposes are delegated, so the whole network
stays one delegate.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["CoordAtt", "ConvBNAct", "make_divisible"]


def make_divisible(value: float, divisor: int = 8, min_value: int | None = None) -> int:
    """Round ``value`` to the nearest multiple of ``divisor``, never more than 10% below it.

    The rule of the MobileNet family (TensorFlow's ``_make_divisible``), used for channel counts.
    """
    min_value = divisor if min_value is None else min_value
    new_value = max(min_value, int(value + divisor / 2) // divisor * divisor)
    if new_value < 0.9 * value:  # rounding down by more than 10% would hurt accuracy
        new_value += divisor
    return new_value


class ConvBNAct(nn.Module):
    """Conv2d (no bias) + BatchNorm2d + optional activation, as in MobileNetV2."""

    def __init__(
        self,
        in_chs: int,
        out_chs: int,
        kernel_size: int = 1,
        stride: int = 1,
        groups: int = 1,
        act_layer: type[nn.Module] | None = nn.ReLU6,
    ) -> None:
        super().__init__()
        self.conv = nn.Conv2d(
            in_chs, out_chs, kernel_size, stride, (kernel_size - 1) // 2, groups=groups, bias=False
        )
        self.bn = nn.BatchNorm2d(out_chs)
        self.act = act_layer() if act_layer is not None else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.bn(self.conv(x)))


class CoordAtt(nn.Module):
    """Coordinate Attention block (paper Eq. 1-6); output has the input's shape.

    Args:
        channels: input (and output) channels C.
        reduction: reduction ratio r; the shared encoder has ``max(8, C // r)`` channels.
    """

    def __init__(self, channels: int, reduction: int = 32) -> None:
        super().__init__()
        if channels < 1 or reduction < 1:
            raise ValueError(
                f"CoordAtt needs channels >= 1 and reduction >= 1, got {channels}, {reduction}"
            )
        mid = max(8, channels // reduction)
        self.conv1 = nn.Conv2d(channels, mid, 1)  # shared encoder F1, with bias as in the paper
        self.bn1 = nn.BatchNorm2d(mid)
        self.act = nn.Hardswish()  # x * relu6(x + 3) / 6, one op XNNPACK delegates
        self.conv_h = nn.Conv2d(mid, channels, 1)  # F_h
        self.conv_w = nn.Conv2d(mid, channels, 1)  # F_w

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: float32 [N, C, H, W] -> [N, C, H, W]; H and W may differ."""
        _, _, h, w = x.shape
        # avg_pool2d with static kernels, not mean(dim=3): XNNPACK delegates it.
        x_h = F.avg_pool2d(x, (1, w))  # [N, C, H, 1]
        x_w = F.avg_pool2d(x, (h, 1)).transpose(2, 3)  # [N, C, W, 1]
        y = self.act(self.bn1(self.conv1(torch.cat([x_h, x_w], dim=2))))  # [N, mid, H + W, 1]
        # slicing with the static sizes, not torch.split: split_with_sizes is not delegated
        a_h = self.conv_h(y[:, :, :h]).sigmoid()  # [N, C, H, 1]
        a_w = self.conv_w(y[:, :, h:].transpose(2, 3)).sigmoid()  # [N, C, 1, W]
        # one broadcast product of the small gates, then one full-size multiply
        return x * (a_h * a_w)
