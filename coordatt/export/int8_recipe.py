"""int8 recipes for the ExecuTorch XNNPACK ``.pte``: ExecuTorch's XNNPACKQuantizer as it is
("xnnpack"), on CA written with int8 poolings ("ca-int8-pool"), or with our annotations for
Coordinate Attention on top ("ca-aware", "ca-fp32-gates").

"ca-int8-pool" rewrites each CoordAtt before quantizing (``coordatt.ca_variants``, the same
function to float rounding): each directional pooling as a depthwise convolution with a constant
1/W (1/H) kernel, which XNNPACKQuantizer quantizes like any convolution and XNNPACK runs in int8
(its subgraph has no int8 average pooling: an ``avg_pool2d`` stays fp32 between two Converts),
and the two directions encoded apart, each with its own copy of the encoder's weights, so there
is no concat, transpose or slice whose qparams would have to be shared. The network is one
XNNPACK delegate with no Convert inside CA (only the input's and the output's).

XNNPACKQuantizer leaves ``avg_pool2d`` and ``hardswish`` unannotated, so CA's two directional
poolings and its encoder's h-swish run in fp32 inside the delegate with Convert operators around
them, and it quantizes each gate multiply's inputs with observers of their own, so a sigmoid's
output is requantized before it is used. The CA-aware recipe annotates (quantizer API: torchao's
pt2e ``QuantizationAnnotation``, written as ExecuTorch's ``xnnpack_quantizer_utils`` annotators):

- ``avg_pool2d``: input and output share one set of qparams (an average stays in its input's
  range), so the pooling, the transposes, the concat and the slices after it all share the block
  input's scale: no requantization, and no slice whose scale differs from its input's (ExecuTorch
  issue 21829: such a slice fails XNNPACK initialisation);
- ``hardswish``: quantized input and output;
- ``sigmoid`` ("ca-aware"): a fixed output scale 1/256, zero point -128 (exactly [0, 1) in int8, as
  XNNPACK's and TFLite's quantized sigmoids use), and the gate multiplies take their inputs with
  the qparams their producers already have (shared specs) instead of observing them again;
- or ("ca-fp32-gates") the sigmoids and gate multiplies left in fp32: XNNPACK's int8 multiply
  requantizes every element and costs more per element than its fp32 one, and CA's two
  full-size gate multiplies are most of CA's int8 cost.
"""

from __future__ import annotations

from ..errors import require

__all__ = ["INT8_RECIPES", "DEFAULT_INT8_RECIPE", "make_quantizer", "recipe_model"]

INT8_RECIPES = ("ca-aware", "ca-fp32-gates", "ca-int8-pool", "xnnpack")
# recipes that quantize CoordAtt rewritten as a ca_variants formulation (same function)
_CA_FORMULATIONS = {"ca-int8-pool": {"pool": "dwconv", "encode": "apart"}}
DEFAULT_INT8_RECIPE = "xnnpack"  # measured: see benchmarks/int8_ca_recipe.md


def _annotated_output(node) -> bool:
    from torchao.quantization.pt2e.quantizer.quantizer import Q_ANNOTATION_KEY

    ann = node.meta.get(Q_ANNOTATION_KEY)
    return ann is not None and ann._annotated and ann.output_qspec is not None


def _input_spec(node, config):
    """The spec an operator takes ``node`` with: the qparams it already has, else its own."""
    from torchao.quantization.pt2e.quantizer import SharedQuantizationSpec

    if _annotated_output(node):
        return SharedQuantizationSpec(node)
    return config.input_activation


def _annotate_ca_ops(gm, config, *, fp32_gates: bool = False) -> None:
    """Annotate avg_pool2d, hardswish, sigmoid and the muls consuming a sigmoid (see above);
    with ``fp32_gates``, mark the sigmoids and gate multiplies as done, unquantized: they run in
    fp32, with a Convert of the block's tensor in and of the gated tensor out."""
    import torch
    from torchao.quantization.pt2e.quantizer import (
        FixedQParamsQuantizationSpec,
        QuantizationAnnotation,
        SharedQuantizationSpec,
    )
    from torchao.quantization.pt2e.quantizer.quantizer import Q_ANNOTATION_KEY

    aten = torch.ops.aten
    sigmoid_out = FixedQParamsQuantizationSpec(
        dtype=torch.int8, scale=1.0 / 256.0, zero_point=-128, quant_min=-128, quant_max=127,
        qscheme=torch.per_tensor_affine,
    )
    for node in gm.graph.nodes:  # topological order: producers are annotated before consumers
        if node.op != "call_function":
            continue
        target = node.target
        if target == aten.avg_pool2d.default:
            src = node.args[0]
            node.meta[Q_ANNOTATION_KEY] = QuantizationAnnotation(
                input_qspec_map={src: _input_spec(src, config)},
                output_qspec=SharedQuantizationSpec((src, node)), _annotated=True)
        elif target in (aten.hardswish.default, aten.hardswish_.default):
            src = node.args[0]
            node.meta[Q_ANNOTATION_KEY] = QuantizationAnnotation(
                input_qspec_map={src: _input_spec(src, config)},
                output_qspec=config.output_activation, _annotated=True)
        elif fp32_gates and (target == aten.sigmoid.default or _gate_mul(node)):
            node.meta[Q_ANNOTATION_KEY] = QuantizationAnnotation(_annotated=True)
        elif target == aten.sigmoid.default:
            src = node.args[0]
            node.meta[Q_ANNOTATION_KEY] = QuantizationAnnotation(
                input_qspec_map={src: _input_spec(src, config)},
                output_qspec=sigmoid_out, _annotated=True)
        elif _gate_mul(node):
            ins = [a for a in node.args[:2] if isinstance(a, torch.fx.Node)]
            node.meta[Q_ANNOTATION_KEY] = QuantizationAnnotation(
                input_qspec_map={a: _input_spec(a, config) for a in ins},
                output_qspec=config.output_activation, _annotated=True)


def _gate_mul(node) -> bool:
    """A multiply of two tensors, one of them a gate; others keep XNNPACKQuantizer's annotation."""
    import torch

    if node.op != "call_function" or node.target not in (torch.ops.aten.mul.Tensor,
                                                         torch.ops.aten.mul_.Tensor):
        return False
    ins = [a for a in node.args[:2] if isinstance(a, torch.fx.Node)]
    return len(ins) == 2 and any(_gate_source(a) for a in ins)


def _gate_source(node) -> bool:
    """A sigmoid, or a product of gates: what CA multiplies its input by."""
    import torch

    aten = torch.ops.aten
    if node.op != "call_function":
        return False
    if node.target == aten.sigmoid.default:
        return True
    if node.target in (aten.mul.Tensor, aten.mul_.Tensor):
        return any(isinstance(a, torch.fx.Node) and _gate_source(a) for a in node.args[:2])
    return False


def _check_recipe(recipe: str) -> None:
    if recipe not in INT8_RECIPES:
        raise ValueError(f"unknown int8 recipe {recipe!r}; choose from {', '.join(INT8_RECIPES)}")


def recipe_model(model, example, recipe: str):
    """The eval-mode module a recipe quantizes: ``model`` itself, or a copy with its CoordAtt
    blocks in the recipe's formulation (same function; ``model`` is left unchanged)."""
    _check_recipe(recipe)
    if recipe not in _CA_FORMULATIONS:
        return model
    from ..ca_variants import with_ca_variant

    return with_ca_variant(model, example, **_CA_FORMULATIONS[recipe])


def make_quantizer(recipe: str = "ca-aware"):
    """The PT2E quantizer of an int8 recipe (per-channel symmetric weights, int8 activations)."""
    _check_recipe(recipe)
    mod = require("executorch.backends.xnnpack.quantizer.xnnpack_quantizer", "executorch")
    utils = require("executorch.backends.xnnpack.quantizer.xnnpack_quantizer_utils", "executorch")
    config = mod.get_symmetric_quantization_config(is_per_channel=True)
    if recipe in ("xnnpack", *_CA_FORMULATIONS):
        return mod.XNNPACKQuantizer().set_global(config)

    class CoordAttQuantizer(mod.XNNPACKQuantizer):
        """XNNPACKQuantizer, with CA's pooling, h-swish, sigmoids and gates annotated first."""

        def annotate(self, model):
            _annotate_ca_ops(model, config, fp32_gates=recipe == "ca-fp32-gates")
            model = self._annotate_for_quantization_config(model)
            utils.propagate_annotation(model)
            return model

    return CoordAttQuantizer().set_global(config)
