"""Export-time formulations of Coordinate Attention (Hou et al., CVPR 2021, arXiv 2103.02907):
the same function as :class:`coordatt.layers.CoordAtt` in eval mode, written as the operators a
given runtime runs best. Chosen by the exporters per target (``coordatt.export``), never by the
model: the trained network and its checkpoint (official key names) stay as they are, and a
variant is built from a loaded block, copying its weights.

Choices (each equal to the official block to float rounding, tested against its reference):

- ``pool``: ``"avg_pool"`` (``avg_pool2d`` with static kernels, the model's own) or ``"dwconv"``,
  each directional mean as depthwise convolutions with constant kernels. XNNPACK's subgraph has
  no int8 average pooling, so in an int8 ``.pte`` an ``avg_pool2d`` runs in fp32 between two
  Converts; a depthwise convolution is quantized like any other (per-channel weights: every 1/k
  weight is exactly 127 x its scale) and runs in int8. XNNPACK's int8 depthwise kernels take at
  most 25 taps (a 1x28 depthwise convolution ran as a grouped IGEMM, many times slower) and
  compute a whole tile of 3, 9 or 25 taps per output, so a mean over L positions is a chain of
  strided means over disjoint windows, L = k1 x k2 x ... (a mean of equal-sized means is the
  mean), chosen to compute the fewest taps: 56 = 8 x 7, 28 = 7 x 4, 14 = 7 x 2.
- ``encode``: ``"joint"`` (concatenate both pooled maps, encode once, slice back, as the paper) or
  ``"apart"``: the encoder (1x1 conv, eval-mode BN, h-swish) acts on each position alone, so
  encoding the two maps one after the other is the same function without the concat, the
  transposes and the slices. Each direction gets its own copy of the encoder's weights: one
  quantized weight shared by two XNNPACK convolutions made the int8 ``.pte`` fail to load
  (``benchmarks/xnnpack_shared_weight/``).
- ``gate``: ``"product"`` (``x * (a_h * a_w)``, the model's own), ``"sequential"``
  (``x * a_h * a_w``, the official order up to the commutativity of the product) or
  ``"upsampled"``: both gates brought to the full H x W by nearest upsampling (an exact copy)
  before ``x * (a_h * a_w)``, so that every multiply has inputs of one shape: ONNX Runtime's
  NCHWc layout transformer keeps same-shape multiplies (and a nearest Resize with constant
  scales) in its blocked layout, where a broadcasting multiply leaves it for NCHW and back
  (``benchmarks/ca_levers/onnxruntime.md``).
- ``act``: the encoder's h-swish as ``"hardswish"`` (one operator, the model's own) or
  ``"relu6"``: ``t * relu6(t + 3)``, its definition, with the ``/ 6`` folded into the weights of
  the two 1x1 gate convolutions that read it (they are linear: ``W (y / 6) = (W / 6) y``). For
  runtimes that run an int8 HARD_SWISH or HardSigmoid outside their fast path (LiteRT's XNNPACK
  delegate takes no int8 HARD_SWISH; ONNX Runtime has no QLinear HardSigmoid): an add with a
  fused relu6 and a multiply are int8 operators everywhere.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Mapping

import torch
import torch.nn.functional as F
from torch import nn

from .layers import CoordAtt

__all__ = ["CHOICES", "CoordAttVariant", "with_ca_variant", "for_export", "ca_input_sizes",
           "mean_factors"]

MAX_DWCONV_TAPS = 25  # XNNPACK's largest int8 depthwise (unipass) kernel
_DWCONV_TILES = (3, 9, 25)  # taps XNNPACK's unipass depthwise kernels compute per output

CHOICES: dict[str, tuple[str, ...]] = {
    "pool": ("avg_pool", "dwconv"),
    "encode": ("joint", "apart"),
    "gate": ("product", "sequential", "upsampled"),
    "act": ("hardswish", "relu6"),
}


def _check(choices: Mapping[str, str]) -> dict[str, str]:
    out = {k: v[0] for k, v in CHOICES.items()}
    for key, value in choices.items():
        if key not in CHOICES:
            raise ValueError(f"unknown CoordAtt choice {key!r}; choose from {', '.join(CHOICES)}")
        if value not in CHOICES[key]:
            raise ValueError(f"unknown {key} {value!r}; choose from {', '.join(CHOICES[key])}")
        out[key] = value
    return out


def mean_factors(length: int, max_taps: int = MAX_DWCONV_TAPS) -> list[int]:
    """Window sizes whose strided means, one after the other, average ``length`` positions, each
    at most ``max_taps``: of all such factorisations, the one with the fewest taps computed by
    XNNPACK's depthwise kernels, which compute a whole tile (3, 9 or 25 taps) for every output.
    ``[length]`` when there is none (a prime above ``max_taps``)."""
    best = _cheapest_chain(length, max_taps)
    return list(best[1]) if best is not None else [length]


def _tile(taps: int) -> int:
    return next(t for t in _DWCONV_TILES if t >= taps)


@functools.cache
def _cheapest_chain(length: int, max_taps: int) -> tuple[int, tuple[int, ...]] | None:
    """(taps computed per output position of the whole chain x ``length``, windows), or None."""
    options = [(_tile(length), (length,))] if length <= max_taps else []
    for k in range(2, max_taps + 1):
        if length % k == 0 and (rest := _cheapest_chain(length // k, max_taps)) is not None:
            options.append(((length // k) * _tile(k) + rest[0], (k, *rest[1])))
    return min(options, key=lambda o: (o[0], len(o[1]))) if options else None  # ties: fewer ops


class CoordAttVariant(nn.Module):
    """An eval-only CoordAtt for an input of ``height`` x ``width``, built from a CoordAtt's
    weights (copied) with the formulation ``choices`` (see the module docstring)."""

    def __init__(self, block: CoordAtt, height: int, width: int, **choices: str) -> None:
        super().__init__()
        self.choices = _check(choices)
        self.height, self.width = height, width
        channels = block.conv1.in_channels
        self.conv1 = copy.deepcopy(block.conv1)
        self.bn1 = copy.deepcopy(block.bn1)
        self.act = copy.deepcopy(block.act)
        if self.choices["encode"] == "apart":  # the W direction's own copy of the encoder
            self.conv1_w = copy.deepcopy(block.conv1)
            self.bn1_w = copy.deepcopy(block.bn1)
        self.conv_h = copy.deepcopy(block.conv_h)
        self.conv_w = copy.deepcopy(block.conv_w)
        if self.choices["act"] == "relu6":  # h-swish's / 6 moves into the gate convolutions
            if not isinstance(block.act, nn.Hardswish):
                raise ValueError("act='relu6' rewrites nn.Hardswish, not "
                                 f"{type(block.act).__name__}")
            with torch.no_grad():
                self.conv_h.weight.div_(6.0)
                self.conv_w.weight.div_(6.0)
        if self.choices["pool"] == "dwconv":  # kernels [C, 1, 1, k] along W, [C, 1, k, 1] along H
            dtype = block.conv1.weight.dtype
            self.pool_h_taps, self.pool_w_taps = mean_factors(width), mean_factors(height)
            for i, k in enumerate(self.pool_h_taps):
                self.register_buffer(f"pool_h_weight{i}",
                                     torch.full((channels, 1, 1, k), 1.0 / k, dtype=dtype))
            for i, k in enumerate(self.pool_w_taps):
                self.register_buffer(f"pool_w_weight{i}",
                                     torch.full((channels, 1, k, 1), 1.0 / k, dtype=dtype))
        self.eval()

    def train(self, mode: bool = True) -> CoordAttVariant:
        if mode:
            raise ValueError("CoordAttVariant is for inference and export only; train CoordAtt")
        return super().train(False)

    def _act(self, t: torch.Tensor) -> torch.Tensor:
        if self.choices["act"] == "relu6":
            return t * F.relu6(t + 3.0)  # h-swish times 6: the gate convolutions hold the / 6
        return self.act(t)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: float32 [N, C, height, width] -> [N, C, height, width]."""
        h, w = self.height, self.width
        if self.choices["pool"] == "dwconv":
            x_h, x_w = x, x
            for i, k in enumerate(self.pool_h_taps):  # ends as [N, C, H, 1]
                x_h = F.conv2d(x_h, getattr(self, f"pool_h_weight{i}"), stride=(1, k),
                               groups=x.shape[1])
            for i, k in enumerate(self.pool_w_taps):  # ends as [N, C, 1, W]
                x_w = F.conv2d(x_w, getattr(self, f"pool_w_weight{i}"), stride=(k, 1),
                               groups=x.shape[1])
        else:
            x_h = F.avg_pool2d(x, (1, w))
            x_w = F.avg_pool2d(x, (h, 1))
        if self.choices["encode"] == "apart":
            y_h = self._act(self.bn1(self.conv1(x_h)))
            y_w = self._act(self.bn1_w(self.conv1_w(x_w)))
        else:
            y = self._act(self.bn1(self.conv1(torch.cat([x_h, x_w.transpose(2, 3)], dim=2))))
            # slicing with the static sizes, not torch.split: split_with_sizes is not delegated
            y_h, y_w = y[:, :, :h], y[:, :, h:].transpose(2, 3)
        a_h = self.conv_h(y_h).sigmoid()  # [N, C, H, 1]
        a_w = self.conv_w(y_w).sigmoid()  # [N, C, 1, W]
        if self.choices["gate"] == "sequential":
            return x * a_h * a_w
        if self.choices["gate"] == "upsampled":  # nearest: each gate value copied, same function
            a_h = F.interpolate(a_h, scale_factor=(1.0, float(w)), mode="nearest")
            a_w = F.interpolate(a_w, scale_factor=(float(h), 1.0), mode="nearest")
        return x * (a_h * a_w)


def ca_input_sizes(model: nn.Module, example: torch.Tensor) -> dict[str, tuple[int, int]]:
    """The (H, W) each CoordAtt of ``model`` sees for ``example``, by module name."""
    sizes: dict[str, tuple[int, int]] = {}
    hooks = [m.register_forward_pre_hook(
        lambda _m, args, name=name: sizes.__setitem__(name, tuple(args[0].shape[2:])))
        for name, m in model.named_modules() if isinstance(m, CoordAtt)]
    try:
        with torch.no_grad():
            model(example)
    finally:
        for hook in hooks:
            hook.remove()
    return sizes


def with_ca_variant(model: nn.Module, example: torch.Tensor, **choices: str) -> nn.Module:
    """A copy of eval-mode ``model`` with every CoordAtt replaced by a :class:`CoordAttVariant`
    of ``choices`` for ``example``'s size; ``model`` itself is left unchanged (and returned as
    it is when it holds no CoordAtt)."""
    _check(choices)
    sizes = ca_input_sizes(model, example)
    if not sizes:  # no CoordAtt: nothing to rewrite
        return model
    if isinstance(model, CoordAtt):
        return CoordAttVariant(model, *sizes[""], **choices)
    out = copy.deepcopy(model).eval()
    for name, (h, w) in sizes.items():
        parent_name, _, child = name.rpartition(".")
        parent = out.get_submodule(parent_name) if parent_name else out
        setattr(parent, child, CoordAttVariant(getattr(parent, child), h, w, **choices))
    return out


def for_export(model: nn.Module, example: torch.Tensor,
               choices: Mapping[str, str] | None) -> tuple[nn.Module, dict[str, str] | None]:
    """What an exporter exports: ``model`` with every CoordAtt written as ``choices`` (see
    :func:`with_ca_variant`), and the formulation to record as the report's ``ca_formulation``;
    ``(model, None)`` when ``choices`` is None or ``model`` holds no CoordAtt."""
    if not choices:
        return model, None
    variant = with_ca_variant(model, example, **choices)
    return variant, (dict(choices) if variant is not model else None)
