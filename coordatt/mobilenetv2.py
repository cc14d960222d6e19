"""MobileNetV2 (Sandler et al., CVPR 2018) and MobileNetV2-CA (Hou et al., CVPR 2021).

One InvertedResidual serves both networks: attention is a slot filled with CoordAtt or left empty.
The layout follows the official MobileNetV2-CA code (github.com/houqb/CoordAttention): CA sits after
the depthwise conv's BN + ReLU6 and before the linear 1x1 projection, in every block that expands
(t != 1), i.e. 16 of the 17 blocks.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import nn

from .layers import ConvBNAct, CoordAtt, make_divisible

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

AttnFactory = Callable[[int], nn.Module]


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
    ) -> None:
        super().__init__()
        if stride not in (1, 2):
            raise ValueError(f"stride must be 1 or 2, got {stride}")
        hidden = round(in_chs * expand_ratio)
        self.use_residual = stride == 1 and in_chs == out_chs
        self.pw = ConvBNAct(in_chs, hidden, 1) if expand_ratio != 1 else nn.Identity()
        self.dw = ConvBNAct(hidden, hidden, 3, stride, groups=hidden)
        self.attn = attn_layer(hidden) if attn_layer is not None else nn.Identity()
        self.pwl = ConvBNAct(hidden, out_chs, 1, act_layer=None)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.pwl(self.attn(self.dw(self.pw(x))))
        return x + y if self.use_residual else y


class MobileNetV2(nn.Module):
    """MobileNetV2, with Coordinate Attention in the expanding blocks when ``coord_att`` is set.

    Args:
        num_classes: size of the classifier.
        width_mult: channel multiplier; channels are rounded to multiples of 8.
        coord_att: put CoordAtt in every block with t != 1 (MobileNetV2-CA).
        reduction: CoordAtt's reduction ratio r.
        dropout: dropout before the classifier (0.1 in the official MobileNetV2-CA).
    """

    def __init__(
        self,
        num_classes: int = 1000,
        width_mult: float = 1.0,
        coord_att: bool = False,
        reduction: int = 32,
        dropout: float = 0.1,
        settings: tuple[tuple[int, int, int, int], ...] = INVERTED_RESIDUAL_SETTINGS,
    ) -> None:
        super().__init__()
        if num_classes < 1:
            raise ValueError(f"num_classes must be >= 1, got {num_classes}")
        in_chs = make_divisible(STEM_CHANNELS * width_mult)
        self.stem = ConvBNAct(3, in_chs, 3, stride=2)

        def attn_for(t: int) -> AttnFactory | None:
            # the official network has no CA in the first block (t == 1, no expansion)
            if not coord_att or t == 1:
                return None
            return lambda chs: CoordAtt(chs, reduction)

        blocks = []
        for t, c, n, s in settings:
            out_chs = make_divisible(c * width_mult)
            for i in range(n):
                blocks.append(InvertedResidual(in_chs, out_chs, s if i == 0 else 1, t, attn_for(t)))
                in_chs = out_chs
        self.blocks = nn.Sequential(*blocks)

        # the head stays at 1280 channels for width <= 1 (MobileNetV2 paper, official code)
        self.num_features = (
            make_divisible(HEAD_CHANNELS * width_mult) if width_mult > 1.0 else HEAD_CHANNELS
        )
        self.head = ConvBNAct(in_chs, self.num_features, 1)
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(self.num_features, num_classes)
        self._init_weights()

    def _init_weights(self) -> None:
        """The official initialisation: He-normal over fan-out for convs, N(0, 0.01) for the
        classifier, BN to identity, biases to zero."""
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                n = m.kernel_size[0] * m.kernel_size[1] * m.out_channels
                nn.init.normal_(m.weight, 0.0, math.sqrt(2.0 / n))
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, 0.0, 0.01)
                nn.init.zeros_(m.bias)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.blocks(self.stem(x)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Classify a batch of images.

        x: float32 [N, 3, H, W], RGB, scaled to [0, 1] then normalised with the ImageNet
        mean/std (IMAGENET_MEAN, IMAGENET_STD); H and W at least 32, 224x224 as trained.
        Returns float32 logits [N, num_classes] (no softmax).
        """
        # mean over both axes with keepdim, not AdaptiveAvgPool2d(1): one op XNNPACK delegates
        x = self.forward_features(x).mean((2, 3), keepdim=True)
        return self.classifier(self.dropout(torch.flatten(x, 1)))
