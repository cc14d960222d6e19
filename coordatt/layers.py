"""Attention blocks: Coordinate Attention (Hou, Zhou, Feng, CVPR 2021, arXiv 2103.02907) and the
two it is compared with, Squeeze-and-Excitation (Hu et al., CVPR 2018, arXiv 1709.01507) and CBAM
(Woo et al., ECCV 2018, arXiv 1807.06521); small building blocks; ``get_attn``, the registry that
makes attention a slot filled by name.

CoordAtt factorises global pooling into two 1-D poolings, along W (giving C x H x 1) and along H
(C x 1 x W), encodes both with one shared 1x1 conv + BN + h-swish, splits them back and turns each
into a per-direction gate (paper Eq. 1-6): ``y = x * a_h * a_w``.

It is written for export: static pooling kernels taken from the input's (static) shape instead of
``AdaptiveAvgPool2d((None, 1))``, which ONNX cannot export and which lowers to single-axis ``mean``;
slicing instead of ``split``. Lowered to ExecuTorch's XNNPACK backend, single-axis ``mean`` and
``split_with_sizes`` stay outside the delegate and cut the network into pieces with portable
kernels between them; ``avg_pool2d``, slicing and transposes are delegated, so the whole network
stays one delegate. SE and CBAM follow the same rules: global pooling is ``mean((2, 3),
keepdim=True)`` / ``max_pool2d`` with the whole plane as kernel; CBAM's pooling across channels
moves channels into a spatial axis and pools with a static kernel there.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Mapping, Sequence

import torch
import torch.nn.functional as F
from torch import nn

__all__ = [
    "ACTIVATIONS",
    "ATTENTIONS",
    "AttnFactory",
    "CBAM",
    "ConvBNAct",
    "CoordAtt",
    "SqueezeExcite",
    "attn_factory",
    "get_act",
    "get_attn",
    "make_divisible",
    "select_blocks",
]


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


class SqueezeExcite(nn.Module):
    """Squeeze-and-Excitation (Hu et al., Fig. 2): a per-channel gate from global average pooling.

    Args:
        channels: input (and output) channels C.
        reduction: the hidden layer has ``max(8, C // reduction)`` channels, CoordAtt's rule. 24
            by default: after a t = 6 expansion, a quarter of the block's input channels (the SE
            ratio of MobileNetV3 and EfficientNet), which gives the Coordinate Attention paper's
            3.89M parameters for MobileNetV2 + SE (3,890,136).
    """

    def __init__(self, channels: int, reduction: int = 24) -> None:
        super().__init__()
        if channels < 1 or reduction < 1:
            raise ValueError(
                f"SqueezeExcite needs channels >= 1 and reduction >= 1, got {channels}, {reduction}"
            )
        mid = max(8, channels // reduction)
        self.fc1 = nn.Conv2d(channels, mid, 1)  # 1x1 convs on [N, C, 1, 1]: the two FC layers
        self.act = nn.ReLU()
        self.fc2 = nn.Conv2d(mid, channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: float32 [N, C, H, W] -> [N, C, H, W]."""
        s = x.mean((2, 3), keepdim=True)  # both axes with keepdim: XNNPACK delegates it
        return x * self.fc2(self.act(self.fc1(s))).sigmoid()


class CBAM(nn.Module):
    """Convolutional Block Attention Module (Woo et al., Fig. 1-2): a channel gate from average-
    and max-pooled descriptors through one shared MLP, then a spatial gate from a 7x7 conv over the
    channel-wise mean and max.

    Args:
        channels: input (and output) channels C.
        reduction: the shared MLP's hidden layer has ``max(8, C // reduction)`` channels; 24 as
            :class:`SqueezeExcite`, matching the paper's 3.89M parameters for MobileNetV2 + CBAM.
        kernel_size: the spatial gate's conv kernel (7 in the CBAM paper).
    """

    def __init__(self, channels: int, reduction: int = 24, kernel_size: int = 7) -> None:
        super().__init__()
        if channels < 1 or reduction < 1 or kernel_size < 1 or kernel_size % 2 == 0:
            raise ValueError(
                f"CBAM needs channels >= 1, reduction >= 1 and an odd kernel_size, got "
                f"{channels}, {reduction}, {kernel_size}"
            )
        mid = max(8, channels // reduction)
        self.fc1 = nn.Conv2d(channels, mid, 1)
        self.act = nn.ReLU()
        self.fc2 = nn.Conv2d(mid, channels, 1)
        # the official CBAM's BasicConv: conv without bias + BN, no activation before the sigmoid
        self.spatial = nn.Conv2d(2, 1, kernel_size, padding=kernel_size // 2, bias=False)
        self.spatial_bn = nn.BatchNorm2d(1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: float32 [N, C, H, W] -> [N, C, H, W]."""
        _, c, h, w = x.shape
        # max_pool2d with the plane as kernel, not amax: XNNPACK delegates it
        pooled = torch.cat([x.mean((2, 3), keepdim=True), F.max_pool2d(x, (h, w))], dim=2)
        z = self.fc2(self.act(self.fc1(pooled)))  # the shared MLP once over both: [N, C, 2, 1]
        x = x * (z[:, :, :1] + z[:, :, 1:]).sigmoid()
        # channels into a spatial axis, then pool with a static (C, 1) kernel: a mean/amax over
        # dim 1 is a single-axis reduction that XNNPACK does not take, and would split the graph
        t = x.transpose(1, 2)  # [N, H, C, W]
        desc = torch.cat([F.avg_pool2d(t, (c, 1)), F.max_pool2d(t, (c, 1))], dim=2)  # [N, H, 2, W]
        s = self.spatial_bn(self.spatial(desc.transpose(1, 2)))  # [N, 1, H, W]
        return x * s.sigmoid()


AttnFactory = Callable[[int], nn.Module]

ATTENTIONS: dict[str, type[nn.Module]] = {"ca": CoordAtt, "se": SqueezeExcite, "cbam": CBAM}
ACTIVATIONS: dict[str, type[nn.Module]] = {"relu6": nn.ReLU6, "hswish": nn.Hardswish}


def get_attn(name: str, **kwargs) -> AttnFactory:
    """A factory ``channels -> nn.Module`` for the attention block ``name`` ("ca", "se", "cbam"),
    with its settings (e.g. ``reduction=16``) bound; a bad setting fails here, not at build time."""
    if name not in ATTENTIONS:
        raise ValueError(f"unknown attention {name!r}; choose from {', '.join(ATTENTIONS)}")
    cls = ATTENTIONS[name]
    params = [p for p in inspect.signature(cls).parameters if p != "channels"]
    bad = sorted(set(kwargs) - set(params))
    if bad:
        raise ValueError(
            f"unknown setting {bad[0]!r} for attention {name!r}; choose from {', '.join(params)}"
        )
    cls(64, **kwargs)  # validate the values once
    return functools.partial(cls, **kwargs)


def get_act(name: str) -> type[nn.Module]:
    """The activation class for ``name`` ("relu6", "hswish")."""
    if name not in ACTIVATIONS:
        raise ValueError(f"unknown activation {name!r}; choose from {', '.join(ACTIVATIONS)}")
    return ACTIVATIONS[name]


def select_blocks(spec: str | Sequence[int], default: Sequence[int], n_blocks: int) -> set[int]:
    """Indices of the blocks that get attention: ``"default"`` (the paper's placement, given as
    ``default``), ``"all"``, or a sequence of block indices in ``range(n_blocks)``."""
    if isinstance(spec, str):
        if spec not in ("default", "all"):
            raise ValueError(f"unknown attn_blocks {spec!r}; choose from default, all, or a list "
                             f"of block indices 0..{n_blocks - 1}")
        return set(default) if spec == "default" else set(range(n_blocks))
    chosen = list(spec)
    bad = [i for i in chosen if isinstance(i, bool) or not isinstance(i, int)
           or not 0 <= i < n_blocks]
    if bad:
        raise ValueError(f"attn_blocks: {bad[0]!r} is not a block index; the network has "
                         f"blocks 0..{n_blocks - 1}")
    return set(chosen)


def attn_factory(
    attn: str | None, reduction: int | None, attn_kwargs: Mapping | None
) -> AttnFactory | None:
    """The attention factory a network puts in its slots, or None (no attention); ``reduction``
    None keeps the block's own default (32 for CA, 24 for SE and CBAM)."""
    kwargs = dict(attn_kwargs or {})
    if reduction is not None:
        kwargs["reduction"] = reduction
    if attn is None:
        if kwargs:
            raise ValueError(f"attention settings {', '.join(sorted(kwargs))} given without attn")
        return None
    return get_attn(attn, **kwargs)
