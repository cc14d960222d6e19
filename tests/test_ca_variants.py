"""CoordAtt's export-time formulations (coordatt/ca_variants.py): each equals the official block
to float rounding (exactly, in float64), a network built from the official checkpoint keeps its
logits, and each lowers to one XNNPACK delegate with no portable operator."""

import copy
import itertools
import math

import pytest
import torch
from official_mbv2_ca import OfficialCoordAtt, OfficialMobileNetV2, randomize_bn

import coordatt
from coordatt import CoordAtt
from coordatt.ca_variants import CHOICES, CoordAttVariant, mean_factors, with_ca_variant

ALL_CHOICES = [dict(zip(CHOICES, values)) for values in itertools.product(*CHOICES.values())]


def _ids(choices):
    return "-".join(choices.values())


def _official_pair(channels=48):
    ours = randomize_bn(CoordAtt(channels)).eval()
    ref = OfficialCoordAtt(channels, channels).eval()
    ref.load_state_dict({k.replace("conv_h", "conv2").replace("conv_w", "conv3"): v
                         for k, v in ours.state_dict().items()})
    return ours, ref


@pytest.mark.parametrize("choices", ALL_CHOICES, ids=_ids)
@pytest.mark.parametrize("shape", [(2, 48, 14, 14), (1, 48, 12, 7), (1, 48, 1, 5),
                                   (1, 8, 28, 56)])  # 28 = 7 x 4, 56 = 8 x 7: chained means
def test_equals_the_official_block(choices, shape):
    ours, ref = _official_pair(shape[1])
    x = torch.randn(shape)
    variant = CoordAttVariant(ours, shape[2], shape[3], **choices)
    with torch.no_grad():
        torch.testing.assert_close(variant(x), ref(x), atol=1e-5, rtol=1e-5)
        # in float64 the formulations' rounding differences vanish: the same function (built
        # from a float64 block, so that the dwconv pooling's 1/W kernel is float64's too)
        variant64 = CoordAttVariant(copy.deepcopy(ours).double(), shape[2], shape[3], **choices)
        exact = (variant64(x.double()) - ref.double()(x.double())).abs().max().item()
    assert exact <= 1e-12


def test_the_official_checkpoint_keeps_its_logits(tmp_path):
    choices = ALL_CHOICES[-1]  # every choice away from the model's own formulation
    torch.manual_seed(0)
    ref = randomize_bn(OfficialMobileNetV2(width_mult=0.35)).eval()
    path = tmp_path / "mbv2_ca.pth"
    torch.save(ref.state_dict(), path)
    model = coordatt.create_model("mobilenetv2_ca", width_mult=0.35, weights=path)
    state = copy.deepcopy(model.state_dict())
    x = torch.randn(2, 3, 64, 48)
    variant = with_ca_variant(model, x[:1], **choices)
    assert sum(isinstance(m, CoordAttVariant) for m in variant.modules()) == 16
    assert not any(isinstance(m, CoordAtt) for m in variant.modules())
    with torch.no_grad():
        expected = ref(x)
        assert expected.std(0).mean() > 1e-2  # the logits depend on the input
        got = variant(x)
    assert (got - expected).abs().max() <= 1e-5 * max(1.0, expected.abs().max().item())
    # the model the variant was made from is untouched: same modules, same weights
    assert sum(isinstance(m, CoordAtt) for m in model.modules()) == 16
    assert all(torch.equal(v, model.state_dict()[k]) for k, v in state.items())


def test_mean_factors_keep_every_window_within_xnnpack_dwconv_taps():
    # the fewest taps computed with XNNPACK's 3/9/25-tap depthwise tiles
    assert mean_factors(7) == [7] and mean_factors(25) == [25] and mean_factors(14) == [7, 2]
    assert mean_factors(28) == [7, 4] and mean_factors(56) == [8, 7]
    assert mean_factors(112) == [8, 7, 2]
    assert mean_factors(29) == [29]  # a prime above 25: one kernel, correct if slow
    for length in range(1, 130):
        factors = mean_factors(length)
        assert math.prod(factors) == length
        assert len(factors) == 1 or max(factors) <= 25


def test_bad_choices_name_the_valid_ones():
    block = CoordAtt(16).eval()
    with pytest.raises(ValueError, match="unknown pool 'max'; choose from avg_pool, dwconv"):
        CoordAttVariant(block, 4, 4, pool="max")
    with pytest.raises(ValueError, match="unknown CoordAtt choice 'order'; choose from pool"):
        with_ca_variant(block, torch.randn(1, 16, 4, 4), order="hw")
    with pytest.raises(ValueError, match="inference and export only"):
        CoordAttVariant(block, 4, 4).train()


def test_a_lone_block_is_replaced_too():
    block = randomize_bn(CoordAtt(16)).eval()
    x = torch.randn(1, 16, 6, 5)
    variant = with_ca_variant(block, x, pool="dwconv", encode="apart")
    assert isinstance(variant, CoordAttVariant) and (variant.height, variant.width) == (6, 5)
    with torch.no_grad():
        torch.testing.assert_close(variant(x), block(x), atol=1e-6, rtol=1e-5)


@pytest.mark.parametrize("choices", [{"pool": "dwconv", "encode": "apart", "gate": "sequential"},
                                     {"pool": "dwconv", "encode": "joint"},
                                     {"encode": "apart", "act": "relu6"}], ids=_ids)
def test_fp32_lowers_to_one_delegate(choices):
    pytest.importorskip("executorch")
    from coordatt.export.pte import lower_to_pte

    torch.manual_seed(0)
    block = randomize_bn(CoordAtt(16)).eval()
    x = torch.randn(1, 16, 8, 30)  # 30 = 3 x 10 or so: a chained pooling
    _, report = lower_to_pte(with_ca_variant(block, x, **choices), x)
    assert report["delegates"] == 1 and report["non_delegated_ops"] == 0, report


def test_the_fp32_pte_export_uses_the_measured_formulation(tiny_model, tmp_path):
    pytest.importorskip("executorch")
    from coordatt.export.pipeline import ExportConfig, export
    from coordatt.export.pte import FP32_CA_FORMULATION

    (result,) = export(ExportConfig(model=tiny_model, input_size=(32, 32), output_dir=tmp_path),
                       ["pte"], progress=False)
    assert result.report["ca_formulation"] == FP32_CA_FORMULATION
    assert result.report["delegates"] == 1 and result.report["non_delegated_ops"] == 0
    assert result.verification["status"] == "passed", result.verification  # vs eager CoordAtt


def test_the_int8_onnx_export_uses_the_measured_formulation(tiny_model, tmp_path):
    pytest.importorskip("onnxruntime")
    from coordatt.export.onnx import INT8_CA_FORMULATION
    from coordatt.export.pipeline import ExportConfig, export
    from coordatt.preprocess import sample_images

    config = ExportConfig(model=tiny_model, input_size=(32, 32), output_dir=tmp_path,
                          quantize="int8", calibration_dir=sample_images()[0].parent)
    (result,) = export(config, ["onnx"], progress=False)
    assert result.report["ca_formulation"] == INT8_CA_FORMULATION
    assert "AveragePool" not in result.report["op_types"]  # the poolings are quantized convs
    assert result.verification["status"] == "passed", result.verification


def test_the_int8_tflite_export_uses_the_measured_formulation(tiny_model, tmp_path):
    pytest.importorskip("litert_torch")
    pytest.importorskip("ai_edge_litert")
    from coordatt.export.litert import LITERT_INT8_CA_FORMULATION
    from coordatt.export.pipeline import ExportConfig, export
    from coordatt.preprocess import sample_images

    config = ExportConfig(model=tiny_model, input_size=(32, 32), output_dir=tmp_path,
                          quantize="int8", calibration_dir=sample_images()[0].parent)
    (result,) = export(config, ["tflite"], progress=False)
    report = result.report
    assert report["ca_formulation"] == LITERT_INT8_CA_FORMULATION
    # no int8 AVERAGE_POOL_2D nor HARD_SWISH, which LiteRT's XNNPACK delegate does not take
    assert "AVERAGE_POOL_2D" not in report["op_counts"] and "HARD_SWISH" not in report["op_counts"]
    # MobileNetV2-CA 1.0x/224 (stand-in weights) and the trained network are one partition
    # (test_export_litert.py); on this random tiny net the converter leaves each relu6 apart from
    # its add (a TRANSPOSE between them; its own output scale, 6/255), and XNNPACK does not take
    # that int8 RELU6: 3 partitions (benchmarks/ca_levers/litert.md)
    assert set(report["non_delegated_op_names"]) <= {"RELU6"}, report
    assert report["delegates"] <= 3, report
    assert result.verification["status"] == "passed", result.verification


def test_the_fp32_onnx_export_uses_the_measured_formulation(tiny_model, tmp_path):
    pytest.importorskip("onnxruntime")
    from coordatt.export.onnx import FP32_CA_FORMULATION
    from coordatt.export.pipeline import ExportConfig, export

    (result,) = export(ExportConfig(model=tiny_model, input_size=(32, 32), output_dir=tmp_path),
                       ["onnx"], progress=False)
    assert result.report["ca_formulation"] == FP32_CA_FORMULATION
    assert "Concat" not in result.report["op_types"]  # each direction encoded apart
    assert result.verification["status"] == "passed", result.verification  # vs eager CoordAtt


def test_the_int8_onnx_formulation_runs_every_ca_op_in_int8(tmp_path):
    # h-swish as t * relu6(t + 3): ORT has no QLinear HardSigmoid, so nn.Hardswish stayed a float
    # HardSigmoid between DequantizeLinear/QuantizeLinear; the relu6 folds into QLinearAdd's range
    ort = pytest.importorskip("onnxruntime")
    import onnx

    from coordatt.export.onnx import INT8_CA_FORMULATION, export_onnx
    from coordatt.export.onnx_int8 import quantize_onnx

    torch.manual_seed(0)
    block = randomize_bn(CoordAtt(16)).eval()
    x = torch.randn(1, 16, 8, 12)
    variant = with_ca_variant(block, x, **INT8_CA_FORMULATION)
    quantize_onnx(export_onnx(variant, x, {})[0], [torch.randn_like(x) for _ in range(4)],
                  tmp_path / "ca.onnx")
    options = ort.SessionOptions()
    options.optimized_model_filepath = str(tmp_path / "optimized.onnx")
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED
    ort.InferenceSession(str(tmp_path / "ca.onnx"), options, providers=["CPUExecutionProvider"])
    ops = [node.op_type for node in onnx.load(str(tmp_path / "optimized.onnx")).graph.node]
    # only the block's input and output cross between float and int8
    assert ops.count("QuantizeLinear") == 1 and ops.count("DequantizeLinear") == 1, ops
    assert {op for op in ops if op not in ("QuantizeLinear", "DequantizeLinear")} == {
        "QLinearConv", "QLinearAdd", "QLinearMul", "QLinearSigmoid"}, ops
