"""MobileNetV2 (Sandler et al., CVPR 2018) with an attention slot: MobileNetV2, MobileNetV2-CA
(Hou et al., CVPR 2021), MobileNetV2 + SE and MobileNetV2 + CBAM (the CA paper's comparisons).

One InvertedResidual serves them all: attention is a slot filled by name (``attn="ca"``, "se",
"cbam") or left empty (``nn.Identity``). The layout follows the official MobileNetV2-CA code
(github.com/houqb/CoordAttention, and its README's figure "where to plug"): attention sits after
the depthwise conv's BN + activation and before the linear 1x1 projection, in every block that
expands (t != 1), i.e. 16 of the 17 blocks; SE and CBAM sit in the same place.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import torch
from torch import nn

from .classifier import ImageClassifier
from .layers import AttnFactory, ConvBNAct, attn_factory, get_act, make_divisible, select_blocks

__all__ = [
    "IMAGENET_MEAN",
    "IMAGENET_STD",
    "INVERTED_RESIDUAL_SETTINGS",
    "InvertedResidual",
    "MobileNetV2",
]

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)

INVERTED_RESIDUAL_SETTINGS: tuple[tuple[int, int, int, int], ...] = (
    # t, c, n, s  (expansion, output channels, repeats, stride of the first)
    (1, 16, 1, 1),
    (6, 24, 2, 2),
    (6, 32, 3, 2),
    (6, 64, 4, 2),
    (6, 96, 3, 1),
    (6, 160, 3, 2),
    (6, 320, 1, 1),
)
STEM_CHANNELS = 32
HEAD_CHANNELS = 1280


class InvertedResidual(nn.Module):
    """pw expand (skipped when t == 1) -> dw 3x3 -> attention slot -> pw linear, with a residual
    when stride is 1 and channels are kept."""

    def __init__(
        self,
        in_chs: int,
        out_chs: int,
        stride: int,
        expand_ratio: float,
        attn_layer: AttnFactory | None = None,
        act_layer: type[nn.Module] = nn.ReLU6,
    ) -> None:
        super().__init__()
        if stride not in (1, 2):
            raise ValueError(f"stride must be 1 or 2, got {stride}")
        hidden = round(in_chs * expand_ratio)
        self.use_residual = stride == 1 and in_chs == out_chs
        self.pw = ConvBNAct(in_chs, hidden, 1, act_layer=act_layer) if expand_ratio != 1 \
            else nn.Identity()
        self.dw = ConvBNAct(hidden, hidden, 3, stride, groups=hidden, act_layer=act_layer)
        self.attn = attn_layer(hidden) if attn_layer is not None else nn.Identity()
        self.pwl = ConvBNAct(hidden, out_chs, 1, act_layer=None)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.pwl(self.attn(self.dw(self.pw(x))))
        return x + y if self.use_residual else y


class MobileNetV2(ImageClassifier):
    """MobileNetV2 with an attention slot in its inverted residual blocks.

    Args:
        num_classes: size of the classifier.
        width_mult: channel multiplier; channels are rounded to multiples of 8.
        attn: the attention block by name ("ca", "se", "cbam"; see ``layers.get_attn``) or None.
        reduction: the attention's reduction ratio; None keeps the block's default (CA 32, SE and
            CBAM 24).
        attn_kwargs: further settings of the attention block (e.g. ``{"kernel_size": 3}`` for
            CBAM).
        attn_blocks: which blocks get attention: "default" (every block with t != 1, as the
            official network), "all", or a list of block indices 0..16.
        act: the network's activation, "relu6" (the paper) or "hswish" (which the CA authors
            found better); used in the stem, the blocks and the head, not inside attention.
        dropout: dropout before the classifier (0.1 in the official MobileNetV2-CA).
        settings: the (t, c, n, s) table.
        coord_att: the older spelling of ``attn="ca"``.
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
        dropout: float = 0.1,
        settings: tuple[tuple[int, int, int, int], ...] = INVERTED_RESIDUAL_SETTINGS,
        coord_att: bool = False,
    ) -> None:
        super().__init__()
        if coord_att:
            if attn not in (None, "ca"):
                raise ValueError(f"coord_att=True contradicts attn={attn!r}")
            attn = "ca"
        factory = attn_factory(attn, reduction, attn_kwargs)
        act_layer = get_act(act)
        expansions = [t for t, _, n, _ in settings for _ in range(n)]
        # the official network has no attention in the first block (t == 1, no expansion)
        with_attn = select_blocks(
            attn_blocks, [i for i, t in enumerate(expansions) if t != 1], len(expansions)
        ) if factory is not None else set()

        in_chs = make_divisible(STEM_CHANNELS * width_mult)
        self.stem = ConvBNAct(3, in_chs, 3, stride=2, act_layer=act_layer)
        blocks = []
        for t, c, n, s in settings:
            out_chs = make_divisible(c * width_mult)
            for i in range(n):
                slot = factory if len(blocks) in with_attn else None
                blocks.append(InvertedResidual(
                    in_chs, out_chs, s if i == 0 else 1, t, slot, act_layer))
                in_chs = out_chs
        self.blocks = nn.Sequential(*blocks)

        # the head stays at 1280 channels for width <= 1 (MobileNetV2 paper, official code)
        num_features = (
            make_divisible(HEAD_CHANNELS * width_mult) if width_mult > 1.0 else HEAD_CHANNELS
        )
        self.head = ConvBNAct(in_chs, num_features, 1, act_layer=act_layer)
        self._build_classifier(num_features, num_classes, dropout)
        self._init_weights()

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """x: float32 [N, 3, H, W] -> feature map [N, num_features, H / 32, W / 32]."""
        return self.head(self.blocks(self.stem(x)))
