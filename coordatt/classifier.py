"""The classification end shared by the package's networks, with timm's classifier interface.

A network subclasses :class:`ImageClassifier`, builds ``self.num_features``-channel features in
``forward_features`` and calls :meth:`ImageClassifier._build_classifier`; pooling, dropout, the
linear classifier, ``get_classifier`` / ``reset_classifier`` (used by fine-tuning) and the official
MobileNet initialisation live here, once.
"""

from __future__ import annotations

import math

import torch
from torch import nn

__all__ = ["ImageClassifier"]


class ImageClassifier(nn.Module):
    """Base of the networks: features -> global average pool -> dropout -> linear classifier."""

    num_features: int
    classifier: nn.Module

    def _build_classifier(self, num_features: int, num_classes: int, dropout: float) -> None:
        if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 1:
            raise ValueError(f"num_classes must be an int >= 1, got {num_classes!r}")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {dropout!r}")
        self.num_features = num_features
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(num_features, num_classes)

    def get_classifier(self) -> nn.Module:
        """The final layer (``nn.Linear(num_features, num_classes)``; timm's interface)."""
        return self.classifier

    def reset_classifier(self, num_classes: int) -> None:
        """Replace the classifier with a fresh ``Linear(num_features, num_classes)``: weights
        N(0, 0.01) as the official initialisation, bias zero. ``num_classes=0`` leaves no
        classifier (``nn.Identity``): ``forward`` then returns the pooled features."""
        if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 0:
            raise ValueError(f"num_classes must be an int >= 0, got {num_classes!r}")
        if num_classes == 0:
            self.classifier = nn.Identity()
            return
        device = next(self.parameters()).device
        self.classifier = nn.Linear(self.num_features, num_classes, device=device)
        nn.init.normal_(self.classifier.weight, 0.0, 0.01)
        nn.init.zeros_(self.classifier.bias)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """x: float32 [N, 3, H, W] -> feature map [N, num_features, H / 32, W / 32]."""
        raise NotImplementedError

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Classify a batch of images.

        x: float32 [N, 3, H, W], RGB, scaled to [0, 1] then normalised with the ImageNet
        mean/std (IMAGENET_MEAN, IMAGENET_STD); H and W at least 32, 224x224 as trained.
        Returns float32 logits [N, num_classes] (no softmax).
        """
        # mean over both axes with keepdim, not AdaptiveAvgPool2d(1): one op XNNPACK delegates
        x = self.forward_features(x).mean((2, 3), keepdim=True)
        return self.classifier(self.dropout(torch.flatten(x, 1)))

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
