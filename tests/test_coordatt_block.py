"""The CoordAtt block: paper Eq. 1-6, export-friendly formulation equal to the plain one."""

import pytest
import torch
import torch.nn.functional as F
from official_mbv2_ca import OfficialCoordAtt, randomize_bn

from coordatt import CoordAtt


def plain_coordatt(block: CoordAtt, x: torch.Tensor) -> torch.Tensor:
    """The paper's equations written with single-axis means, split and an explicit h-swish."""
    _, _, h, w = x.shape
    z_h = x.mean(dim=3, keepdim=True)  # Eq. 2: C x H x 1
    z_w = x.mean(dim=2, keepdim=True).permute(0, 1, 3, 2)  # Eq. 3: C x W x 1
    f = block.bn1(block.conv1(torch.cat([z_h, z_w], dim=2)))
    f = f * F.relu6(f + 3) / 6  # Eq. 4: delta = h-swish
    f_h, f_w = torch.split(f, [h, w], dim=2)
    g_h = torch.sigmoid(block.conv_h(f_h))  # Eq. 5
    g_w = torch.sigmoid(block.conv_w(f_w.permute(0, 1, 3, 2)))  # Eq. 6
    return x * g_h * g_w  # Eq. 1


@pytest.mark.parametrize("shape", [(2, 64, 14, 14), (1, 96, 12, 7), (1, 16, 5, 9), (3, 8, 1, 4)])
def test_equals_plain_formulation(shape):
    block = randomize_bn(CoordAtt(shape[1])).eval()
    x = torch.randn(shape)
    out = block(x)
    assert out.shape == x.shape
    torch.testing.assert_close(out, plain_coordatt(block, x), atol=1e-5, rtol=1e-5)


def test_training_mode_matches_the_official_block():
    """In training, BN normalises over both directions together, as the official code does."""
    ours = CoordAtt(32)
    ref = OfficialCoordAtt(32, 32)
    ref.load_state_dict({k.replace("conv_h", "conv2").replace("conv_w", "conv3"): v
                         for k, v in ours.state_dict().items()})
    x = torch.randn(4, 32, 10, 6)
    torch.testing.assert_close(ours(x), ref(x), atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(ours.bn1.running_mean, ref.bn1.running_mean)
    torch.testing.assert_close(ours.bn1.running_var, ref.bn1.running_var)


def test_equals_official_block_with_same_weights():
    ours = randomize_bn(CoordAtt(144)).eval()
    ref = OfficialCoordAtt(144, 144).eval()
    renamed = {k.replace("conv_h", "conv2").replace("conv_w", "conv3"): v
               for k, v in ours.state_dict().items()}
    ref.load_state_dict(renamed)
    x = torch.randn(2, 144, 28, 20)
    torch.testing.assert_close(ours(x), ref(x), atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize(("channels", "reduction", "mid"), [(16, 32, 8), (144, 32, 8),
                                                           (576, 32, 18), (960, 32, 30),
                                                           (960, 16, 60)])
def test_mid_channels(channels, reduction, mid):
    block = CoordAtt(channels, reduction)
    assert block.conv1.out_channels == mid
    assert block.conv1.bias is not None and block.conv_h.bias is not None  # convs with bias
    assert block.conv_h.out_channels == block.conv_w.out_channels == channels


def test_gates_are_directional():
    """A gate built from H-pooling varies along H only, the W gate along W only."""
    block = randomize_bn(CoordAtt(32)).eval()
    x = torch.ones(1, 32, 6, 9)  # constant input: y / x is exactly a_h * a_w
    gate = block(x) / x
    # rank-1 per channel: gate[c] = outer(a_h[c], a_w[c])
    s = torch.linalg.svdvals(gate[0])
    assert (s[:, 1:] < 1e-5 * s[:, :1]).all()


def test_bad_arguments():
    with pytest.raises(ValueError, match="channels"):
        CoordAtt(0)
