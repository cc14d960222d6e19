"""insert_coordatt: Coordinate Attention into a backbone of one's own."""

import pytest
import torch
from torch import nn

from coordatt import CoordAtt, SqueezeExcite, count_params, insert_coordatt
from coordatt.insert import AttentionAfter


class ConvUnit(nn.Module):
    """conv + BN + act as attributes, the way many codebases write it."""

    def __init__(self, chs):
        super().__init__()
        self.conv = nn.Conv2d(chs, chs, 3, padding=1, groups=chs, bias=False)
        self.bn = nn.BatchNorm2d(chs)
        self.act = nn.ReLU()

    def forward(self, x):
        return self.act(self.bn(self.conv(x)))


class OwnCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 16, 3, 2, 1), nn.BatchNorm2d(16), nn.ReLU())
        self.stage = nn.Sequential(
            nn.Conv2d(16, 48, 1), nn.BatchNorm2d(48), nn.Hardswish(),
            nn.Conv2d(48, 48, 3, 2, 1, groups=48), nn.BatchNorm2d(48), nn.Hardswish(),  # dw
            nn.Conv2d(48, 24, 1),
        )
        self.unit = ConvUnit(24)  # a second depthwise conv, in a conv-BN-act unit
        self.fc = nn.Linear(24, 5)

    def forward(self, x):
        x = self.unit(self.stage(self.stem(x)))
        return self.fc(x.mean((2, 3), keepdim=True).flatten(1))  # keepdim: delegated


@pytest.fixture
def cnn():
    return OwnCNN().eval()


def test_after_depthwise(cnn):
    x = torch.randn(2, 3, 48, 40)
    model = insert_coordatt(cnn)
    wrapped = [n for n, m in model.named_modules() if isinstance(m, AttentionAfter)]
    assert wrapped == ["stage.5", "unit"]  # after the dw conv's BN + act; after the whole unit
    assert model(x).shape == cnn(x).shape == (2, 5)
    added = count_params(CoordAtt(48)) + count_params(CoordAtt(24))
    assert count_params(model) - count_params(cnn) == added
    assert not any(isinstance(m, CoordAtt) for m in cnn.modules())  # a copy; the input untouched
    assert model.stage[5][1].training is False  # the inserted blocks follow the module's mode


def test_names_callable_and_other_blocks(cnn):
    model = insert_coordatt(cnn, ["stem", "stage.6"], reduction=4)
    assert model.stem[1].conv1.out_channels == 8 and model.stage[6][1].conv_h.out_channels == 24
    model = insert_coordatt(cnn, lambda n, m: isinstance(m, nn.BatchNorm2d), attn="se",
                            reduction=4, inplace=True)
    assert model is cnn
    assert sum(isinstance(m, SqueezeExcite) for m in model.modules()) == 4
    assert model(torch.randn(1, 3, 32, 32)).shape == (1, 5)


@pytest.mark.parametrize(("where", "match"), [
    (["stage.9"], r"no module named 'stage.9'.*valid names include stage"),
    (["stage.2"], r"cannot infer the channels after 'stage.2' \(Hardswish\)"),
    (lambda n, m: isinstance(m, nn.GRU), "matched no module"),
    ("after_pointwise", "unknown where 'after_pointwise'; choose from after_depthwise"),
])
def test_bad_places(cnn, where, match):
    with pytest.raises(ValueError, match=match):
        insert_coordatt(cnn, where)


def test_no_depthwise_conv():
    with pytest.raises(ValueError, match="no depthwise conv"):
        insert_coordatt(nn.Sequential(nn.Conv2d(3, 8, 3), nn.ReLU()))


def test_exports_to_one_xnnpack_delegate(cnn):
    pytest.importorskip("executorch")
    from coordatt.export.pte import lower_to_pte

    model = insert_coordatt(cnn).eval()
    x = torch.randn(1, 3, 64, 64)
    program = torch.export.export(model, (x,), strict=True)
    assert torch.allclose(program.module()(x), model(x), atol=1e-5)
    _, report = lower_to_pte(model, x)
    assert (report["delegates"], report["non_delegated_ops"]) == (1, 0), report
