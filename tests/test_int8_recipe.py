"""The .pte's int8 recipes (coordatt/export/int8_recipe.py): the CA-aware one keeps the network
one XNNPACK delegate, quantizes CA's h-swish, sigmoids and gates with no Convert inside CA but
around its fp32 average poolings; ca-int8-pool (poolings as depthwise convolutions, directions
encoded apart) leaves no Convert and no fp32 operator at all; ca-aware agrees with fp32 on the
trained test network."""

import collections
import sys

import pytest
import torch

from coordatt.export.int8_recipe import DEFAULT_INT8_RECIPE, INT8_RECIPES, make_quantizer
from coordatt.export.pipeline import ExportConfig, export
from coordatt.export.quantize import quantize_int8

pytest.importorskip("executorch")

# Measured on the trained net's 200 val images (fp32 top-1 92.5%), calibrated on 3 training
# images a class, the quantized module in PyTorch: see benchmarks/int8_ca_recipe.md.
MIN_AGREEMENT = 0.9
MIN_SQNR_DB = 15.0


def _tiny_ca():
    from coordatt.mobilenetv2 import MobileNetV2

    settings = ((1, 16, 1, 1), (6, 24, 2, 2))  # t, c, n, s: two CA blocks after the first
    torch.manual_seed(0)
    return MobileNetV2(coord_att=True, settings=settings, num_classes=10).eval()


def _profile_rows(pte: bytes, x: torch.Tensor, tmp_path) -> collections.Counter:
    """XNNPACK operator names (without '#n') of one ETDump-profiled run of ``pte``."""
    from executorch.devtools import Inspector
    from executorch.extension.pybindings import portable_lib

    path = tmp_path / "m.pte"
    path.write_bytes(pte)
    module = portable_lib._load_for_executorch(str(path), enable_etdump=True,
                                               debug_buffer_size=0)
    module.forward([x])
    module.write_etdump_result_to_file(str(tmp_path / "m.etdp"))
    frame = Inspector(etdump_path=str(tmp_path / "m.etdp")).to_dataframe()
    return collections.Counter(frame["event_name"].str.replace(r" #\d+$", "", regex=True))


def test_recipes_and_bad_names():
    assert DEFAULT_INT8_RECIPE in INT8_RECIPES == ("ca-aware", "ca-fp32-gates", "ca-int8-pool",
                                                   "xnnpack")
    with pytest.raises(ValueError, match="unknown int8 recipe 'fast'; choose from ca-aware"):
        make_quantizer("fast")
    with pytest.raises(ValueError, match="unknown int8 recipe 'fast'"):
        export(ExportConfig(model="mobilenetv2_ca", quantize="int8", int8_recipe="fast"),
               ["pte"], progress=False)


def test_ca_aware_is_one_delegate_without_convert_inside_ca(tmp_path):
    from coordatt.export.pte import lower_to_pte

    model = _tiny_ca()
    x = torch.randn(1, 3, 32, 32)
    calibration = [torch.randn(1, 3, 32, 32) for _ in range(4)]
    program = quantize_int8(model, x, calibration, recipe="ca-aware")
    data, report = lower_to_pte(program, x)
    assert report["delegates"] == 1 and report["non_delegated_ops"] == 0, report
    rows = _profile_rows(data, x, tmp_path)
    pools = rows["Average Pooling (NHWC, F32) Average Pooling"]
    assert pools == 2 * 2  # two CA blocks, two directional poolings each
    # XNNPACK has no int8 average pooling: a Convert in and out of each pooling, plus the
    # network's input and output; none around h-swish, sigmoids, concat, slices or gates
    assert rows["Convert (NC)"] == 2 + 2 * pools, rows
    fp32 = [name for name in rows if "F32" in name and "Average Pooling" not in name]
    assert not fp32, rows
    assert not any(name.startswith(("Sigmoid", "HardSwish")) for name in rows), rows


def test_ca_int8_pool_is_one_int8_delegate_without_convert(tmp_path):
    from coordatt.export.pte import lower_to_pte

    model = _tiny_ca()
    x = torch.randn(1, 3, 112, 112)  # CA at 28x28: each mean chained, 28 = 7 x 4
    calibration = [torch.randn(1, 3, 112, 112) for _ in range(2)]
    program = quantize_int8(model, x, calibration, recipe="ca-int8-pool")
    data, report = lower_to_pte(program, x)
    assert report["delegates"] == 1 and report["non_delegated_ops"] == 0, report
    rows = _profile_rows(data, x, tmp_path)
    # 3 depthwise convs of the network, 2 poolings of 2 steps in each of its two CA blocks, all
    # XNNPACK depthwise kernels (a 28-tap one would run as a grouped IGEMM), the stem the IGEMM
    assert rows["Convolution (NHWC, QC8) DWConv"] == 3 + 2 * 2 * 2, rows
    assert rows["Convolution (NHWC, QC8) IGEMM"] == 1, rows
    assert rows["Convert (NC)"] == 2, rows  # the network's input and output only
    assert not [name for name in rows if "F32" in name or "Pooling" in name], rows
    assert not any(name.startswith(("Sigmoid", "HardSwish", "Slice", "Copy")) for name in rows)
    # the model itself is not rewritten: the recipe quantizes a copy
    assert any(type(m).__name__ == "CoordAtt" for m in model.modules())


# ca-int8-pool's agreement is measured in benchmarks/ca_cost_levers.md, not here: its PT2E
# prepare/calibration takes ~100 s on the trained net on a busy host (the suite's budget)
@pytest.mark.parametrize("recipe", ["ca-aware"])
def test_ca_recipes_agree_with_fp32_on_the_trained_net(trained_net, recipe):
    from coordatt.preprocess import load_image, preprocess_config

    model = trained_net.load()
    pp = preprocess_config(trained_net.input_size)
    train = trained_net.data_dir / "train"
    calibration = [load_image(p, pp) for c in trained_net.labels
                   for p in sorted((train / c).glob("*.png"))[:3]]
    val = [load_image(p, pp) for c in trained_net.labels
           for p in sorted((trained_net.val_dir / c).glob("*.png"))]
    program = quantize_int8(model, calibration[0], calibration, recipe=recipe)
    quantized = program.module()
    with torch.no_grad():
        ref = torch.cat([model(x) for x in val])
        out = torch.cat([quantized(x) for x in val])
    sqnr = 10 * torch.log10(ref.pow(2).sum() / (ref - out).pow(2).sum()).item()
    agreement = (out.argmax(1) == ref.argmax(1)).float().mean().item()
    print(f"\n{recipe} int8 (PyTorch): SQNR {sqnr:.1f} dB, top-1 agreement {agreement:.3f}",
          file=sys.stderr)
    assert sqnr >= MIN_SQNR_DB and agreement >= MIN_AGREEMENT


def test_the_recipe_is_part_of_the_int8_identity(tiny_model):
    from coordatt.export.subject import prepare_from_config

    info = prepare_from_config(ExportConfig(model=tiny_model, input_size=(32, 32)))
    ca = info.identity("int8", None, "ca-aware")
    plain = info.identity("int8", None, "xnnpack")
    assert ca != plain and ca["int8_recipe"] == "ca-aware"
    assert info.identity("int8", None) == plain  # the default
    assert "int8_recipe" not in info.identity("none", None)


def test_cli_flag():
    from coordatt.export.cli import build_parser

    parse = build_parser().parse_args
    assert parse(["--format", "pte"]).int8_recipe == DEFAULT_INT8_RECIPE
    assert parse(["--format", "pte", "--int8-recipe", "ca-aware"]).int8_recipe == "ca-aware"
    with pytest.raises(SystemExit):
        parse(["--format", "pte", "--int8-recipe", "fast"])
