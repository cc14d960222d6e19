"""Put Coordinate Attention (or SE, CBAM) into a network of your own: ``insert_coordatt``.

The CA paper's recipe for a mobile backbone is "after the depthwise conv, on the wide tensor"
(MobileNetV2; houqb/CoordAttention's "where to plug" figure). ``insert_coordatt`` applies it to any
``nn.Module`` by wrapping the chosen modules: a module ``m`` at name ``n`` becomes
``AttentionAfter(m, attn)``, a Sequential that runs ``m`` then the attention block. So the wrapped
module's parameters move from ``n.*`` to ``n.0.*`` and the attention's sit at ``n.1.*``: load a
pretrained backbone *before* inserting. The blocks use only operators XNNPACK delegates, so the
result exports like the registered networks.
"""

from __future__ import annotations

import copy
import difflib
from collections.abc import Callable, Mapping, Sequence

from torch import nn

from .layers import get_attn

__all__ = ["AttentionAfter", "insert_coordatt", "WHERE"]

WHERE = ("after_depthwise",)
# modules that may follow a depthwise conv before its output is complete (BN, then activation)
_NORM_ACT = (nn.BatchNorm2d, nn.ReLU, nn.ReLU6, nn.Hardswish, nn.SiLU, nn.GELU, nn.LeakyReLU,
             nn.PReLU, nn.ELU, nn.Mish, nn.Identity)


class AttentionAfter(nn.Sequential):
    """A module followed by an attention block (what ``insert_coordatt`` puts in its place)."""


def _is_depthwise(m: nn.Module) -> bool:
    return isinstance(m, nn.Conv2d) and m.groups > 1 and m.groups == m.in_channels


def _channels(module: nn.Module) -> int | None:
    """Channels of the module's output: the last registered submodule with ``out_channels`` (a
    conv) or ``num_features`` (a BatchNorm), the module itself included."""
    for m in reversed(list(module.modules())):
        for attr in ("out_channels", "num_features"):
            value = getattr(m, attr, None)
            if isinstance(value, int) and value > 0:
                return value
    return None


def _after_depthwise(model: nn.Module) -> list[tuple[str, int]]:
    """(name to wrap, channels) for every depthwise conv: the end of the conv's BN + activation run
    when it sits in a Sequential; the whole unit when its parent holds only the conv and such a run
    (a ConvBNAct); otherwise the conv itself."""
    modules = dict(model.named_modules())
    places = []
    for name, conv in modules.items():
        if not _is_depthwise(conv):
            continue
        parent_name, _, leaf = name.rpartition(".")
        parent = modules[parent_name]
        children = list(parent.named_children())
        keys = [k for k, _ in children]
        run_end = keys.index(leaf)
        while run_end + 1 < len(children) and isinstance(children[run_end + 1][1], _NORM_ACT):
            run_end += 1
        if isinstance(parent, nn.Sequential):
            target = f"{parent_name}.{keys[run_end]}" if parent_name else keys[run_end]
        elif parent_name and keys.index(leaf) == 0 and run_end == len(children) - 1:
            target = parent_name  # a conv + BN + act unit: attention after the whole unit
        else:
            target = name
        places.append((target, conv.out_channels))
    return places


def _resolve(model: nn.Module, where) -> list[tuple[str, int]]:
    modules = dict(model.named_modules())
    candidates = [n for n in modules if n]  # the root cannot be wrapped in place
    if isinstance(where, str):
        if where not in WHERE:
            raise ValueError(f"unknown where {where!r}; choose from {', '.join(WHERE)}, a list of "
                             f"module names, or a callable(name, module) -> bool")
        places = _after_depthwise(model)
        if not places:
            raise ValueError(f"{type(model).__name__} has no depthwise conv (an nn.Conv2d with "
                             f"groups == in_channels > 1): name the modules instead")
        return places
    if callable(where):
        names = [n for n in candidates if where(n, modules[n])]
    elif isinstance(where, Sequence):
        names = list(where)
        for n in names:
            if not isinstance(n, str) or n not in modules or not n:
                close = difflib.get_close_matches(str(n), candidates, n=3, cutoff=0.5)
                some = close or candidates[:3]
                raise ValueError(f"no module named {n!r} in {type(model).__name__}; valid names "
                                 f"include {', '.join(some)}")
    else:
        raise ValueError(f"where must be {', '.join(WHERE)}, a list of module names or a "
                         f"callable(name, module) -> bool, got {type(where).__name__}")
    if not names:
        raise ValueError(f"where matched no module of {type(model).__name__}")
    places = []
    for n in names:
        chs = _channels(modules[n])
        if chs is None:
            raise ValueError(f"cannot infer the channels after {n!r} ({type(modules[n]).__name__}):"
                             f" it holds no conv or BatchNorm; name the conv, BN or block instead")
        places.append((n, chs))
    return places


def insert_coordatt(
    model: nn.Module,
    where: str | Sequence[str] | Callable[[str, nn.Module], bool] = "after_depthwise",
    reduction: int = 32,
    attn: str = "ca",
    *,
    attn_kwargs: Mapping | None = None,
    inplace: bool = False,
) -> nn.Module:
    """Insert an attention block after each chosen module; channels are inferred.

    Args:
        model: any ``nn.Module`` (a backbone of your own, a torchvision-style network...).
        where: "after_depthwise": after every depthwise conv (groups == in_channels > 1) and the
            BatchNorm + activation that follow it in the same ``nn.Sequential``; when the conv's
            parent holds only the conv followed by BN/activation (a conv-BN-act unit), after that
            unit; otherwise right after the conv. Or a list of module names (``named_modules``),
            or a callable ``(name, module) -> bool`` choosing among them; the channels are the
            ``out_channels`` / ``num_features`` of the module's last conv or BN.
        reduction: the attention's reduction ratio (32 is CoordAtt's default).
        attn: "ca", "se" or "cbam".
        attn_kwargs: further settings of the attention block.
        inplace: modify ``model`` itself; by default a deep copy is modified and ``model`` is left
            untouched.

    Returns the network with ``AttentionAfter`` wrappers at the chosen places (see the module
    docstring for the state_dict names). Raises ValueError for an unknown name, a place whose
    channels cannot be inferred, or a choice that matches nothing.
    """
    factory = get_attn(attn, reduction=reduction, **dict(attn_kwargs or {}))
    if not isinstance(model, nn.Module):
        raise ValueError(f"model must be an nn.Module, got {type(model).__name__}")
    target = model if inplace else copy.deepcopy(model)
    places = _resolve(target, where)
    if len({n for n, _ in places}) != len(places):
        raise ValueError("a module is chosen twice")
    modules = dict(target.named_modules())
    for name, chs in places:
        parent_name, _, leaf = name.rpartition(".")
        module = modules[name]
        wrapped = AttentionAfter(module, factory(chs))
        wrapped.train(module.training)
        param = next(module.parameters(), None)
        if param is not None:
            wrapped.to(param.device)
        setattr(modules[parent_name], leaf, wrapped)
    return target
