"""Where a model comes from: a registry name, or a factory of the user's own (``pkg.mod:fn``).

``build_model`` is the one way every tool (export, bench, train) turns a model spec, a checkpoint
and a class count into an ``nn.Module``. The class count of a checkpoint is read from the
checkpoint's classifier, so a fine-tuned 10-class network loads without being told it has 10.
"""

from __future__ import annotations

import contextlib
import importlib
import inspect
import os
import re
import sys
from collections.abc import Callable

import torch
from torch import nn

from .checkpoints import CheckpointError, load_checkpoint, read_state_dict
from .errors import check_regular_file

__all__ = ["is_factory_spec", "load_factory", "build_model", "find_classifier",
           "checkpoint_num_classes", "output_classes", "spec_name", "replace_classifier"]

_SPEC = re.compile(r"^[A-Za-z_][\w]*(\.[A-Za-z_][\w]*)*:[A-Za-z_][\w]*(\.[A-Za-z_][\w]*)*$")


def is_factory_spec(spec: str) -> bool:
    """``pkg.module:callable`` (a factory) rather than a registry name."""
    return ":" in spec


def spec_name(spec: str) -> str:
    """A short name for artifacts: the registry name, or the factory's callable name."""
    return spec.rsplit(":", 1)[-1].rsplit(".", 1)[-1] if is_factory_spec(spec) else spec


def load_factory(spec: str) -> Callable[..., nn.Module]:
    """Import ``pkg.module:callable`` (the current folder is importable); ValueError when the
    spec is malformed, the module does not import or the attribute is missing or not callable."""
    if not _SPEC.match(spec):
        raise ValueError(f"bad model factory {spec!r}; use package.module:callable, "
                         f"e.g. mymodels:build_net")
    module_name, attr = spec.split(":")
    cwd = os.getcwd()
    if cwd not in sys.path:
        sys.path.insert(0, cwd)
    try:
        obj = importlib.import_module(module_name)
    except Exception as e:  # any failure of the user's module is their error, in one line
        text = (str(e).strip().splitlines() or [""])[0][:200]
        raise ValueError(f"model factory {spec!r}: cannot import {module_name!r}: "
                         f"{type(e).__name__}: {text}") from None
    for part in attr.split("."):
        if not hasattr(obj, part):
            raise ValueError(f"model factory {spec!r}: {module_name!r} has no {part!r}")
        obj = getattr(obj, part)
    if not callable(obj):
        raise ValueError(f"model factory {spec!r} is a {type(obj).__name__}, not a callable")
    return obj


def _accepts(fn: Callable, name: str) -> bool:
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return False
    return any(p.name == name or p.kind is p.VAR_KEYWORD for p in params)


def _call_factory(spec: str, factory: Callable, kwargs: dict) -> nn.Module:
    try:
        model = factory(**kwargs)
    except Exception as e:
        text = (str(e).strip().splitlines() or [""])[0][:200]
        raise ValueError(f"model factory {spec!r} raised {type(e).__name__}: {text}") from None
    if not isinstance(model, nn.Module):
        raise ValueError(f"model factory {spec!r} returned a {type(model).__name__}, "
                         f"not a torch.nn.Module")
    return model


def find_classifier(model: nn.Module) -> tuple[str, nn.Module] | None:
    """The classifier's module name and module: ``get_classifier()`` (timm's convention) when the
    model has it, else its last ``nn.Linear``; None when it has neither."""
    getter = getattr(model, "get_classifier", None)
    if callable(getter):
        head = getter()
        for name, module in model.named_modules():
            if module is head and isinstance(head, nn.Linear):
                return name, head
    linears = [(n, m) for n, m in model.named_modules() if isinstance(m, nn.Linear)]
    return linears[-1] if linears else None


def checkpoint_num_classes(state: dict[str, torch.Tensor], classifier_key: str) -> int | None:
    """The checkpoint's class count: the rows of its classifier weight (this package's name,
    the official ``classifier.1``, or ``classifier_key`` for other models)."""
    for key in (f"{classifier_key}.weight", "classifier.weight", "classifier.1.weight"):
        w = state.get(key)
        if isinstance(w, torch.Tensor) and w.dim() == 2:
            return int(w.shape[0])
    return None


def replace_classifier(model: nn.Module, num_classes: int) -> None:
    """A fresh ``num_classes`` classifier in place: ``reset_classifier`` (timm's interface) when
    the model has it, else its last nn.Linear swapped for a new one (N(0, 0.01), zero bias)."""
    reset = getattr(model, "reset_classifier", None)
    if callable(reset):
        reset(num_classes)
        return
    found = find_classifier(model)
    if found is None:
        raise ValueError("the model has no nn.Linear classifier to resize; build it with the "
                         "class count you need")
    name, old = found
    parent = model.get_submodule(name.rpartition(".")[0]) if "." in name else model
    new = nn.Linear(old.in_features, num_classes, bias=old.bias is not None)
    nn.init.normal_(new.weight, 0.0, 0.01)
    if new.bias is not None:
        nn.init.zeros_(new.bias)
    setattr(parent, name.rpartition(".")[2], new)


def build_model(spec: str, *, width_mult: float | None = None, num_classes: int | None = None,
                weights: str | os.PathLike | None = None, seed: int | None = 0,
                **kwargs) -> nn.Module:
    """Build ``spec`` (a registry name or ``pkg.mod:fn``) and load ``weights`` into it.

    The class count is ``num_classes`` when given, else the checkpoint's, else the model's
    default. A factory receives ``num_classes`` / ``width_mult`` only when its signature takes
    them; otherwise its classifier is replaced (``reset_classifier`` or its last Linear).
    Initialisation is seeded (``seed``) so the same call builds the same network. Returns the
    model in eval mode when weights are loaded, as ``create_model`` does.
    """
    from .registry import check_model_args, create_model

    if weights is not None:  # before anything reads it: a FIFO or a device never ends a read
        check_regular_file(weights, "checkpoint", CheckpointError)
    state = read_state_dict(weights) if weights is not None else None

    rng = torch.random.fork_rng() if seed is not None else contextlib.nullcontext()
    with rng:
        if seed is not None:
            torch.manual_seed(seed)
        if not is_factory_spec(spec):
            check_model_args(spec, 1.0 if width_mult is None else width_mult)
            if num_classes is None and state is not None:
                num_classes = checkpoint_num_classes(state, "classifier")
            model = create_model(spec, width_mult=1.0 if width_mult is None else width_mult,
                                 num_classes=num_classes or 1000, **kwargs)
        else:
            factory = load_factory(spec)
            call = dict(kwargs)
            if width_mult is not None:
                if not _accepts(factory, "width_mult"):
                    raise ValueError(f"model factory {spec!r} takes no width_mult")
                call["width_mult"] = width_mult
            model = _call_factory(spec, factory, call)
            found = find_classifier(model)
            if num_classes is None and state is not None and found is not None:
                num_classes = checkpoint_num_classes(state, found[0])
            if num_classes is not None and (found is None or found[1].out_features != num_classes):
                if _accepts(factory, "num_classes"):
                    model = _call_factory(spec, factory, {**call, "num_classes": num_classes})
                else:
                    replace_classifier(model, num_classes)
    if weights is not None:
        load_checkpoint(model, weights)
        model.eval()
    return model


def output_classes(model: nn.Module, input_size: tuple[int, int]) -> int:
    """The number of outputs of a classifier on a [1, 3, H, W] input; ValueError when its output
    is not [1, K] logits."""
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            out = model(torch.zeros(1, 3, *input_size))
    except Exception as e:
        text = (str(e).strip().splitlines() or [""])[0][:200]
        raise ValueError(f"the model fails on a [1, 3, {input_size[0]}, {input_size[1]}] input: "
                         f"{type(e).__name__}: {text}") from None
    finally:
        model.train(was_training)
    if not isinstance(out, torch.Tensor) or out.dim() != 2 or out.shape[0] != 1:
        shape = tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
        raise ValueError(f"the model must return logits [1, num_classes] for one image, "
                         f"got {shape}")
    return int(out.shape[1])

