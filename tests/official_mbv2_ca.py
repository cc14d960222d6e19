"""A reference MobileNetV2(-CA) in the official code's layout, for checkpoint and parity tests.

Written from the official network's description (github.com/houqb/CoordAttention, mbv2_ca.py):
positional module names, AdaptiveAvgPool2d pooling, torch.split, ``x * a_w * a_h``. Its state_dict
has the official checkpoint's key names, so saving it gives a stand-in for ``mbv2_ca.pth``.
"""

import math

import torch
from torch import nn

SETTINGS = [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1),
            (6, 160, 3, 2), (6, 320, 1, 1)]


def _make_divisible(v, divisor=8, min_value=None):
    min_value = min_value or divisor
    new_v = max(min_value, int(v + divisor / 2) // divisor * divisor)
    if new_v < 0.9 * v:
        new_v += divisor
    return new_v


class h_sigmoid(nn.Module):
    def forward(self, x):
        return torch.nn.functional.relu6(x + 3) / 6


class h_swish(nn.Module):
    def forward(self, x):
        return x * h_sigmoid()(x)


class OfficialCoordAtt(nn.Module):
    def __init__(self, inp, oup, reduction=32):
        super().__init__()
        self.pool_h = nn.AdaptiveAvgPool2d((None, 1))
        self.pool_w = nn.AdaptiveAvgPool2d((1, None))
        mip = max(8, inp // reduction)
        self.conv1 = nn.Conv2d(inp, mip, 1)
        self.bn1 = nn.BatchNorm2d(mip)
        self.act = h_swish()
        self.conv2 = nn.Conv2d(mip, oup, 1)
        self.conv3 = nn.Conv2d(mip, oup, 1)

    def forward(self, x):
        identity = x
        _, _, h, w = x.size()
        x_h = self.pool_h(x)
        x_w = self.pool_w(x).permute(0, 1, 3, 2)
        y = self.act(self.bn1(self.conv1(torch.cat([x_h, x_w], dim=2))))
        x_h, x_w = torch.split(y, [h, w], dim=2)
        x_w = x_w.permute(0, 1, 3, 2)
        a_h = self.conv2(x_h).sigmoid()
        a_w = self.conv3(x_w).sigmoid()
        return identity * a_w * a_h


class OfficialInvertedResidual(nn.Module):
    def __init__(self, inp, oup, stride, expand_ratio, ca=True):
        super().__init__()
        hidden = round(inp * expand_ratio)
        self.identity = stride == 1 and inp == oup
        if expand_ratio == 1:
            self.conv = nn.Sequential(
                nn.Conv2d(hidden, hidden, 3, stride, 1, groups=hidden, bias=False),
                nn.BatchNorm2d(hidden), nn.ReLU6(inplace=True),
                nn.Conv2d(hidden, oup, 1, 1, 0, bias=False), nn.BatchNorm2d(oup))
        else:
            layers = [
                nn.Conv2d(inp, hidden, 1, 1, 0, bias=False), nn.BatchNorm2d(hidden),
                nn.ReLU6(inplace=True),
                nn.Conv2d(hidden, hidden, 3, stride, 1, groups=hidden, bias=False),
                nn.BatchNorm2d(hidden), nn.ReLU6(inplace=True)]
            if ca:
                layers.append(OfficialCoordAtt(hidden, hidden))
            layers += [nn.Conv2d(hidden, oup, 1, 1, 0, bias=False), nn.BatchNorm2d(oup)]
            self.conv = nn.Sequential(*layers)

    def forward(self, x):
        return x + self.conv(x) if self.identity else self.conv(x)


class OfficialMobileNetV2(nn.Module):
    def __init__(self, num_classes=1000, width_mult=1.0, ca=True, classifier_seq=True):
        super().__init__()
        input_channel = _make_divisible(32 * width_mult)
        layers = [nn.Sequential(nn.Conv2d(3, input_channel, 3, 2, 1, bias=False),
                                nn.BatchNorm2d(input_channel), nn.ReLU6(inplace=True))]
        for t, c, n, s in SETTINGS:
            output_channel = _make_divisible(c * width_mult)
            for i in range(n):
                layers.append(OfficialInvertedResidual(input_channel, output_channel,
                                                       s if i == 0 else 1, t, ca))
                input_channel = output_channel
        self.features = nn.Sequential(*layers)
        output_channel = _make_divisible(1280 * width_mult) if width_mult > 1.0 else 1280
        self.conv = nn.Sequential(nn.Conv2d(input_channel, output_channel, 1, 1, 0, bias=False),
                                  nn.BatchNorm2d(output_channel), nn.ReLU6(inplace=True))
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        fc = nn.Linear(output_channel, num_classes)
        self.classifier = nn.Sequential(nn.Dropout(0.1), fc) if classifier_seq else fc
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                n = m.kernel_size[0] * m.kernel_size[1] * m.out_channels
                m.weight.data.normal_(0, math.sqrt(2.0 / n))
                if m.bias is not None:
                    m.bias.data.zero_()
            elif isinstance(m, nn.BatchNorm2d):
                m.weight.data.fill_(1)
                m.bias.data.zero_()

    def forward(self, x):
        x = self.avgpool(self.conv(self.features(x)))
        return self.classifier(x.view(x.size(0), -1))


def randomize_bn(model, seed=0, size=(64, 64)):
    """Give BN layers random affine parameters and statistics re-estimated on random images, so
    that the logits depend on the input (random init alone gives near-constant logits) and a
    wrong mapping cannot hide behind identity BNs. Returns the model in eval mode."""
    g = torch.Generator().manual_seed(seed)
    bns = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    with torch.no_grad():
        for m in bns:
            m.weight.copy_(0.5 + torch.rand(m.num_features, generator=g))
            m.bias.copy_(0.2 * torch.randn(m.num_features, generator=g))
            m.reset_running_stats()
            m.momentum = None  # cumulative average over the batches below
        for m in model.modules():
            if isinstance(m, nn.Linear):
                m.weight.normal_(0, 0.05, generator=g)
        model.train()
        if any(isinstance(m, nn.Conv2d) and m.in_channels == 3 for m in model.modules()):
            for _ in range(2):
                model(torch.randn(8, 3, *size, generator=g))
        else:  # a single block: feed it its own channels
            model(torch.randn(8, model.conv1.in_channels, 12, 12, generator=g))
        for m in bns:
            m.momentum = 0.1
    return model.eval()
