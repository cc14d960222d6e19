"""Loading checkpoints: the official ``mbv2_ca.pth``, this package's own state_dicts, safetensors.

A checkpoint is untrusted input: pickles are read with ``weights_only=True``, and anything that is
not a complete, shape-correct state_dict for the model is a :class:`CheckpointError` naming the
first offending keys and the likely cause; never a silent partial load.

The official MobileNetV2-CA code (github.com/houqb/CoordAttention, ``mbv2_ca.py``) names modules by
position; this package names them by role. The mapping between the two lives here, in one place:

====================================  ==================================
official                              coordatt
====================================  ==================================
features.0.{0,1}                      stem.{conv,bn}
features.1.conv.{0,1,3,4}             blocks.0.{dw.conv,dw.bn,pwl.conv,pwl.bn}
features.N.conv.{0,1,3,4}             blocks.N-1.{pw.conv,pw.bn,dw.conv,dw.bn}
features.N.conv.6.{conv1,bn1}         blocks.N-1.attn.{conv1,bn1}
features.N.conv.6.{conv2,conv3}       blocks.N-1.attn.{conv_h,conv_w}
features.N.conv.{7,8}                 blocks.N-1.pwl.{conv,bn}  (plain MobileNetV2: conv.{6,7})
conv.{0,1}                            head.{conv,bn}
classifier.1 or classifier            classifier
====================================  ==================================
"""

from __future__ import annotations

import os
import pickle
import re
import warnings
import zipfile
from collections.abc import Mapping

import torch
from torch import nn

from .errors import check_regular_file

__all__ = ["CheckpointError", "load_checkpoint", "read_state_dict", "to_official_state_dict"]

_SHOW = 3  # offending keys named in an error


class CheckpointError(ValueError):
    """A checkpoint file that cannot be read, or that does not fit the model."""


def _official_names(model: nn.Module) -> dict[str, str]:
    """Map each of the model's module prefixes to its name in the official code."""
    names = {"stem.conv": "features.0.0", "stem.bn": "features.0.1"}
    names.update({"head.conv": "conv.0", "head.bn": "conv.1"})
    for i, block in enumerate(model.blocks):
        base = f"features.{i + 1}.conv"
        has_attn = not isinstance(block.attn, nn.Identity)
        if isinstance(block.pw, nn.Identity):  # first block, t == 1: dw, pw-linear
            parts = {"dw.conv": 0, "dw.bn": 1, "pwl.conv": 3, "pwl.bn": 4}
        else:
            pwl = 7 if has_attn else 6
            parts = {"pw.conv": 0, "pw.bn": 1, "dw.conv": 3, "dw.bn": 4,
                     "pwl.conv": pwl, "pwl.bn": pwl + 1}
        if has_attn:
            parts.update({"attn.conv1": "6.conv1", "attn.bn1": "6.bn1",
                          "attn.conv_h": "6.conv2", "attn.conv_w": "6.conv3"})
        names.update({f"blocks.{i}.{ours}": f"{base}.{theirs}" for ours, theirs in parts.items()})
    return names


def _key_map(model: nn.Module) -> dict[str, str]:
    """official state_dict key -> this model's key (classifier under its ``classifier.1`` name)."""
    prefixes = _official_names(model)
    mapping = {}
    for key in model.state_dict():
        module, _, leaf = key.rpartition(".")
        official = "classifier.1" if module == "classifier" else prefixes.get(module)
        if official is None:
            raise RuntimeError(f"no official name for {key!r}")  # a bug in this table, not input
        mapping[f"{official}.{leaf}"] = key
    return mapping


def to_official_state_dict(model: nn.Module) -> dict[str, torch.Tensor]:
    """The model's state_dict under the official code's key names (for tests and interchange)."""
    mapping = _key_map(model)
    state = model.state_dict()
    return {official: state[ours] for official, ours in mapping.items()}


def read_state_dict(path: str | os.PathLike) -> dict[str, torch.Tensor]:
    """Read a state_dict from ``.pth``/``.pt``/``.bin`` (safely unpickled) or ``.safetensors``;
    unwrap ``{"state_dict": ...}`` / ``{"model": ...}`` and strip a ``module.`` prefix."""
    path = check_regular_file(path, "checkpoint", CheckpointError)  # a FIFO would block torch.load
    try:
        if path.suffix == ".safetensors":
            from safetensors.torch import load_file

            obj = load_file(str(path), device="cpu")
        else:
            with warnings.catch_warnings():  # torch's notes on odd pickle protocols: noise here
                warnings.simplefilter("ignore")
                obj = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as e:
        # torch words it "Unsupported global: GLOBAL x.y" or, for a blocked module,
        # "unsupported GLOBAL posix.system whose module posix is blocked"
        found = re.search(r"unsupported (?:global: )?GLOBAL ([\w.]+)", str(e), re.IGNORECASE)
        if found:
            raise CheckpointError(
                f"{path} holds Python objects ({found.group(1)}), not only tensors: refused, "
                f"since unpickling them could run code"
            ) from None
        raise CheckpointError(
            f"{path} is not a readable checkpoint (truncated or not a checkpoint)"
        ) from None
    except (RuntimeError, EOFError, OSError, ValueError, zipfile.BadZipFile, KeyError) as e:
        raise CheckpointError(
            f"{path} is not a readable checkpoint (truncated or not a checkpoint: "
            f"{type(e).__name__})"
        ) from None
    except Exception as e:  # safetensors raises its own SafetensorError
        raise CheckpointError(f"{path} is not a readable checkpoint ({type(e).__name__})") from None

    for wrapper in ("state_dict", "model"):
        if isinstance(obj, Mapping) and isinstance(obj.get(wrapper), Mapping):
            obj = obj[wrapper]
    if not isinstance(obj, Mapping) or not obj:
        raise CheckpointError(f"{path} holds no state_dict (found {type(obj).__name__})")
    state = {}
    for key, value in obj.items():
        if not isinstance(key, str):
            raise CheckpointError(
                f"{path}: key {key!r} ({type(key).__name__}) is not a name; not a state_dict")
        if not isinstance(value, torch.Tensor):
            raise CheckpointError(
                f"{path}: entry {key!r} is a {type(value).__name__}, not a tensor; not a state_dict"
            )
        state[key.removeprefix("module.")] = value
    return state


def _likely_cause(model: nn.Module, state: Mapping[str, torch.Tensor], key: str,
                  n_wrong: int = 0) -> str:
    """A hint for the first mismatch: another width, another class count, CA or no CA."""
    stem = state.get("stem.conv.weight")
    ours = model.state_dict()
    if n_wrong == 1 and not key.startswith("classifier"):
        # another width changes every layer; one tensor off is an edited or foreign file
        return "only this tensor differs: the file was edited or is for a modified network"
    if stem is not None and "stem.conv.weight" in ours and \
            stem.shape[0] != ours["stem.conv.weight"].shape[0]:
        return (f"the checkpoint's stem has {stem.shape[0]} channels, the model "
                f"{ours['stem.conv.weight'].shape[0]}: it is for another width_mult")
    fc = state.get("classifier.weight")
    if key.startswith("classifier") and fc is not None:
        return (f"the checkpoint has {fc.shape[0]} classes: pass num_classes={fc.shape[0]} "
                f"(--num-classes), or leave it out to take the checkpoint's")
    model_has_ca = any(k.split(".")[2:3] == ["attn"] for k in ours if k.startswith("blocks."))
    ckpt_has_ca = any(".attn." in k or ".conv.6.conv1." in k for k in state)
    if ckpt_has_ca != model_has_ca:
        return ("the checkpoint has Coordinate Attention: use mobilenetv2_ca" if ckpt_has_ca
                else "the checkpoint has no Coordinate Attention: use mobilenetv2")
    return "the checkpoint is for another architecture or configuration"


def _first(keys) -> str:
    keys = sorted(keys)
    more = f" (+{len(keys) - _SHOW} more)" if len(keys) > _SHOW else ""
    return ", ".join(keys[:_SHOW]) + more


def load_checkpoint(model: nn.Module, path: str | os.PathLike) -> nn.Module:
    """Load a checkpoint into ``model`` in place, all or nothing; returns the model."""
    raw = read_state_dict(path)
    expected = model.state_dict()
    own_layout = raw.keys() == expected.keys()  # a model of the user's may name a "features."
    if not own_layout and any(k.startswith("features.") for k in raw):  # the official layout
        if not all(hasattr(b, "pwl") for b in getattr(model, "blocks", [None])):
            raise CheckpointError(
                f"{path} is in the official MobileNetV2(-CA) layout; {type(model).__name__} "
                f"cannot read it (use a mobilenetv2 model, or this package's own state_dict)"
            )
        mapping = _key_map(model)
        state = {}
        for key, value in raw.items():
            if key.startswith("classifier.") and key.count(".") == 1:
                key = "classifier.1." + key.split(".", 1)[1]  # both spellings occur
            state[mapping.get(key, key)] = value
    else:
        state = raw

    missing = expected.keys() - state.keys()
    unexpected = state.keys() - expected.keys()
    if missing or unexpected:
        parts = []
        if missing:
            parts.append(f"missing {len(missing)} keys: {_first(missing)}")
        if unexpected:
            parts.append(f"unexpected {len(unexpected)} keys: {_first(unexpected)}")
        key = sorted(missing or unexpected)[0]
        raise CheckpointError(
            f"{path} does not fit {type(model).__name__}: {'; '.join(parts)}; likely cause: "
            f"{_likely_cause(model, state, key)}"
        )
    wrong = [k for k in expected if state[k].shape != expected[k].shape]
    if wrong:
        k = wrong[0]
        raise CheckpointError(
            f"{path} does not fit: {len(wrong)} tensors have the wrong shape, first {k} "
            f"{tuple(state[k].shape)} vs {tuple(expected[k].shape)}; likely cause: "
            f"{_likely_cause(model, state, k, len(wrong))}"
        )
    _check_values(path, raw, state, expected)
    model.load_state_dict(state, strict=True)
    return model


def _check_values(path, raw: Mapping[str, torch.Tensor], state: Mapping[str, torch.Tensor],
                  expected: Mapping[str, torch.Tensor]) -> None:
    """Refuse NaN/Inf values and non-float tensors where the model holds floats (load_state_dict
    would cast an int64 weight silently); named by their key in the file."""
    names = {id(v): k for k, v in raw.items()}
    for key, value in state.items():
        ours = expected[key]
        name = names.get(id(value), key)
        if ours.is_floating_point() and not (value.is_floating_point() or value.is_complex()):
            raise CheckpointError(
                f"{path}: tensor {name} is {str(value.dtype).removeprefix('torch.')} where the "
                f"model holds {str(ours.dtype).removeprefix('torch.')}: not this model's weights "
                f"(integer weights are refused rather than cast)")
        if value.is_floating_point() and not bool(torch.isfinite(value).all()):
            bad = int((~torch.isfinite(value)).sum())
            raise CheckpointError(
                f"{path}: tensor {name} holds {bad} NaN/Inf values of {value.numel()}: the "
                f"checkpoint is corrupt or from a diverged training run")
