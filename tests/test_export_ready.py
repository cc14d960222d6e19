"""torch.export works on both networks with static shapes, square and non-square."""

import pytest
import torch

import coordatt


@pytest.mark.parametrize("name", ["mobilenetv2_ca", "mobilenetv2"])
@pytest.mark.parametrize("size", [(224, 224), (256, 192)])
def test_torch_export_strict(name, size):
    model = coordatt.create_model(name).eval()
    x = torch.randn(1, 3, *size)
    ep = torch.export.export(model, (x,), strict=True)
    assert not ep.range_constraints  # no symbolic (dynamic) shapes
    torch.testing.assert_close(ep.module()(x), model(x), atol=1e-5, rtol=1e-5)
    ops = {str(n.target) for n in ep.graph.nodes if n.op == "call_function"}
    # the operators the XNNPACK delegate cannot take must not appear
    assert not any("split" in op or "adaptive_avg_pool" in op for op in ops), ops
    means = [n for n in ep.graph.nodes if n.target == torch.ops.aten.mean.dim]
    # one mean, the global pool over both axes at once; single-axis means are not delegated
    assert [sorted(d % 4 for d in n.args[1]) for n in means] == [[2, 3]]
