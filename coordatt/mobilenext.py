"""MobileNeXt (Zhou, Hou, Chen, Feng, Yan, ECCV 2020, arXiv 2007.02269): the sandglass block, with
an attention slot for MobileNeXt + SE and MobileNeXt + CA (Hou et al., CVPR 2021).

The sandglass block flips the inverted residual: the shortcut joins the wide tensors, the 1x1 convs
squeeze then expand in between, and the depthwise convs work on the wide ends::

    dw 3x3 + act -> [attention] -> 1x1 reduce (linear) -> 1x1 expand + act -> dw 3x3 (linear)

The network follows the authors' code (github.com/yitu-opensource/MobileNeXt,
``codebase/models/mnext.py``, trained as ``mnext_mbv2_cfg``; the same file is in
zhoudaquan/rethinking_bottleneck_design): a 3x3 stem, 18 sandglass blocks from the table below,
no 1x1 head conv (the last block already gives 1280 channels), dropout 0.2. As there, the first
block of a stage that changes channels drops the first depthwise conv, and drops the second one
too when it keeps the resolution; the two single blocks of their stage (96 -> 144 and
960 -> 1280) keep both; the shortcut is the full identity (the released 74.0% model).

Attention goes after the first depthwise conv's BN + activation, where the CA authors found it
works best (houqb/CoordAttention README and its "where to plug" figure), on the block's input
channels. Blocks without that conv have no attention by default.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import torch
from torch import nn

from .classifier import ImageClassifier
from .layers import AttnFactory, ConvBNAct, attn_factory, get_act, make_divisible, select_blocks

__all__ = ["SANDGLASS_SETTINGS", "MobileNeXt", "SandGlass"]

SANDGLASS_SETTINGS: tuple[tuple[int, int, int, int], ...] = (
    # t, c, n, s  (reduction ratio of the 1x1 bottleneck, output channels, repeats, stride)
    (2, 96, 1, 2),
    (6, 144, 1, 1),
    (6, 192, 3, 2),
    (6, 288, 3, 2),
    (6, 384, 4, 1),
    (6, 576, 4, 2),
    (6, 960, 3, 1),
    (6, 1280, 1, 1),
)
STEM_CHANNELS = 32
LAST_CHANNELS = 1280


class SandGlass(nn.Module):
    """dw 3x3 (optional) -> attention slot -> 1x1 reduce (linear) -> 1x1 expand -> dw 3x3
    (optional, carries the stride, linear), with an identity shortcut when stride is 1 and
    channels are kept."""

    def __init__(
        self,
        in_chs: int,
        out_chs: int,
        stride: int,
        reduce_ratio: int,
        first_dw: bool = True,
        last_dw: bool = True,
        attn_layer: AttnFactory | None = None,
        act_layer: type[nn.Module] = nn.ReLU6,
    ) -> None:
        super().__init__()
        if stride not in (1, 2):
            raise ValueError(f"stride must be 1 or 2, got {stride}")
        if stride == 2 and not last_dw:
            raise ValueError("a stride-2 sandglass block needs its last depthwise conv")
        hidden = in_chs // reduce_ratio
        if hidden < out_chs / 6:  # the authors' floor on the bottleneck width
            hidden = make_divisible(math.ceil(out_chs / 6), 16)
        self.use_residual = stride == 1 and in_chs == out_chs
        self.dw1 = (ConvBNAct(in_chs, in_chs, 3, groups=in_chs, act_layer=act_layer)
                    if first_dw else nn.Identity())
        self.attn = attn_layer(in_chs) if attn_layer is not None else nn.Identity()
        self.reduce = ConvBNAct(in_chs, hidden, 1, act_layer=None)
        self.expand = ConvBNAct(hidden, out_chs, 1, act_layer=act_layer)
        self.dw2 = (ConvBNAct(out_chs, out_chs, 3, stride, groups=out_chs, act_layer=None)
                    if last_dw else nn.Identity())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.dw2(self.expand(self.reduce(self.attn(self.dw1(x)))))
        return x + y if self.use_residual else y


def _block_specs(settings, width_mult: float) -> list[tuple[int, int, int, int, bool, bool]]:
    """(in, out, stride, t, first_dw, last_dw) per block, by the authors' rules."""
    in_chs = make_divisible(STEM_CHANNELS * width_mult)
    specs = []
    for t, c, n, s in settings:
        out_chs = make_divisible(c * width_mult)
        if c == LAST_CHANNELS and width_mult < 1.0:
            out_chs = LAST_CHANNELS  # as MobileNetV2's head: 1280 below width 1
        for i in range(n):
            stride = s if i == 0 else 1
            single = n == 1 and s == 1  # the authors' keep_3x3: both depthwise convs stay
            full = t == 2 or in_chs == out_chs or single
            specs.append((in_chs, out_chs, stride, t, full, full or stride == 2))
            in_chs = out_chs
    return specs


class MobileNeXt(ImageClassifier):
    """MobileNeXt with an attention slot in its sandglass blocks.

    Args:
        num_classes: size of the classifier.
        width_mult: channel multiplier; channels are rounded to multiples of 8.
        attn: the attention block by name ("ca", "se", "cbam"; see ``layers.get_attn``) or None.
        reduction: the attention's reduction ratio; None keeps the block's default.
        attn_kwargs: further settings of the attention block.
        attn_blocks: which blocks get attention: "default" (every block with a first depthwise
            conv), "all" (blocks without one get it on their input), or a list of indices 0..19.
        act: the network's activation, "relu6" (the paper) or "hswish".
        dropout: dropout before the classifier (0.2 in the authors' code).
        settings: the (t, c, n, s) table.
    """

    def __init__(
        self,
        num_classes: int = 1000,
        width_mult: float = 1.0,
        attn: str | None = None,
        reduction: int | None = None,
        attn_kwargs: Mapping | None = None,
        attn_blocks: str | Sequence[int] = "default",
        act: str = "relu6",
        dropout: float = 0.2,
        settings: tuple[tuple[int, int, int, int], ...] = SANDGLASS_SETTINGS,
    ) -> None:
        super().__init__()
        factory = attn_factory(attn, reduction, attn_kwargs)
        act_layer = get_act(act)
        specs = _block_specs(settings, width_mult)
        with_attn = select_blocks(
            attn_blocks, [i for i, spec in enumerate(specs) if spec[4]], len(specs)
        ) if factory is not None else set()

        self.stem = ConvBNAct(3, specs[0][0], 3, stride=2, act_layer=act_layer)
        self.blocks = nn.Sequential(*(
            SandGlass(i, o, s, t, first, last, factory if k in with_attn else None, act_layer)
            for k, (i, o, s, t, first, last) in enumerate(specs)
        ))
        self._build_classifier(specs[-1][1], num_classes, dropout)
        self._init_weights()

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """x: float32 [N, 3, H, W] -> feature map [N, num_features, H / 32, W / 32]."""
        return self.blocks(self.stem(x))
