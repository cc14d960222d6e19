"""MobileNetV2 / MobileNetV2-CA: the official network's numbers, layout and public API."""

import pytest
import torch
from torch import nn

import coordatt
from coordatt import CoordAtt, count_macs, count_params

# parameters of the official networks (MobileNetV2-CA paper code, torchvision's MobileNetV2)
PARAMS = {
    ("mobilenetv2_ca", 1.0): 3_950_648,
    ("mobilenetv2", 1.0): 3_504_872,
    ("mobilenetv2_ca", 0.75): 2_891_631,
    ("mobilenetv2_ca", 0.5): 2_095_568,
}
# multiply-adds at 224x224 (paper: 310M for MobileNetV2-CA, 300M for MobileNetV2)
MACS = {"mobilenetv2_ca": 310.5e6, "mobilenetv2": 300.8e6}


@pytest.mark.parametrize(("name", "width"), list(PARAMS))
def test_parameter_count(name, width):
    assert count_params(coordatt.create_model(name, width_mult=width)) == PARAMS[(name, width)]


@pytest.mark.parametrize("name", list(MACS))
def test_multiply_adds(name):
    macs = count_macs(coordatt.create_model(name), (224, 224))
    assert abs(macs - MACS[name]) / MACS[name] < 0.01, macs


def test_ca_overheads_match_the_paper():
    ca, plain = (coordatt.create_model(n) for n in ("mobilenetv2_ca", "mobilenetv2"))
    assert count_params(ca) / count_params(plain) - 1 == pytest.approx(0.127, abs=0.001)
    assert count_macs(ca) / count_macs(plain) - 1 == pytest.approx(0.032, abs=0.002)


def test_layout():
    model = coordatt.create_model("mobilenetv2_ca")
    blocks = list(model.blocks)
    assert len(blocks) == 17
    assert isinstance(blocks[0].attn, nn.Identity)  # no CA in the first block (t == 1)
    assert all(isinstance(b.attn, CoordAtt) for b in blocks[1:])  # 16 CA blocks
    # CA sees the expanded (hidden) channels, between the depthwise conv and the projection
    for b in blocks[1:]:
        assert b.attn.conv_h.out_channels == b.dw.conv.out_channels == b.pwl.conv.in_channels
    assert [b.use_residual for b in blocks].count(True) == 10
    assert model.stem.conv.stride == (2, 2) and model.stem.conv.out_channels == 32
    assert model.head.conv.out_channels == 1280 and model.classifier.in_features == 1280
    assert model.dropout.p == 0.1
    assert not any(isinstance(m, CoordAtt) for m in coordatt.create_model("mobilenetv2").modules())


def test_head_width():
    assert coordatt.create_model("mobilenetv2_ca", width_mult=0.5).num_features == 1280
    assert coordatt.create_model("mobilenetv2_ca", width_mult=1.4).num_features == 1792


def test_official_init():
    model = coordatt.create_model("mobilenetv2_ca")
    conv = model.blocks[5].pw.conv
    expected_std = (2.0 / (1 * 1 * conv.out_channels)) ** 0.5
    assert conv.weight.std().item() == pytest.approx(expected_std, rel=0.05)
    assert model.classifier.weight.std().item() == pytest.approx(0.01, rel=0.05)
    assert torch.all(model.classifier.bias == 0) and torch.all(model.blocks[3].attn.conv1.bias == 0)
    assert torch.all(model.stem.bn.weight == 1) and torch.all(model.stem.bn.bias == 0)


@pytest.mark.parametrize("size", [(96, 96), (128, 96), (65, 33)])
def test_forward_shapes(small_ca_model, size):
    x = torch.randn(2, 3, *size)
    assert small_ca_model(x).shape == (2, 1000)


def test_public_api():
    assert {"mobilenetv2", "mobilenetv2_ca"} <= set(coordatt.list_models())
    model = coordatt.create_model("mobilenetv2_ca", num_classes=10, reduction=16)
    assert model.classifier.out_features == 10
    assert model.blocks[1].attn.conv1.out_channels == 8  # 96 hidden // 16 = 6 -> max(8, 6)
    assert model.blocks[-1].attn.conv1.out_channels == 60  # 960 // 16
    assert "float32 [N, 3, H, W]" in coordatt.MobileNetV2.forward.__doc__


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"name": "resnet50"}, "unknown model 'resnet50'; choose from mobilenetv2, mobilenetv2_ca"),
    ({"name": "mobilenetv2_ca", "width_mult": 0.6}, "choose from 0.35, 0.5, 0.75, 1.0"),
    ({"name": "mobilenetv2_ca", "width_mult": "1.0"}, "unsupported width_mult"),
])
def test_bad_arguments(kwargs, match):
    name = kwargs.pop("name")
    with pytest.raises(ValueError, match=match):
        coordatt.create_model(name, **kwargs)
