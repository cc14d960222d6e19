"""coordatt: Coordinate Attention (Hou, Zhou, Feng, CVPR 2021), MobileNetV2-CA and MobileNeXt-CA,
the SE and CBAM blocks they are compared with, to phones.

>>> import coordatt
>>> model = coordatt.create_model("mobilenetv2_ca")              # official random init
>>> model = coordatt.create_model("mobilenetv2_ca", weights="mbv2_ca.pth").eval()
>>> model = coordatt.insert_coordatt(my_cnn)                     # CA after every depthwise conv
"""

import importlib

# public name -> the submodule defining it; imported on first use (PEP 562), so that the command
# line tools can catch a Ctrl-C while torch is still loading (see coordatt/_entry.py)
_LAZY = {
    "CheckpointError": "checkpoints", "load_checkpoint": "checkpoints",
    "count_macs": "complexity", "count_params": "complexity",
    "insert_coordatt": "insert",
    "CBAM": "layers", "CoordAtt": "layers", "SqueezeExcite": "layers", "get_attn": "layers",
    "IMAGENET_MEAN": "mobilenetv2", "IMAGENET_STD": "mobilenetv2",
    "InvertedResidual": "mobilenetv2", "MobileNetV2": "mobilenetv2",
    "MobileNeXt": "mobilenext", "SandGlass": "mobilenext",
    "WIDTH_MULTS": "registry", "create_model": "registry", "list_models": "registry",
}


def __getattr__(name: str):
    if name in _LAZY:
        value = getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


__version__ = "0.1.0"

__all__ = [
    "CBAM",
    "CoordAtt",
    "CheckpointError",
    "IMAGENET_MEAN",
    "IMAGENET_STD",
    "InvertedResidual",
    "MobileNeXt",
    "MobileNetV2",
    "SandGlass",
    "SqueezeExcite",
    "WIDTH_MULTS",
    "count_macs",
    "count_params",
    "create_model",
    "get_attn",
    "insert_coordatt",
    "list_models",
    "load_checkpoint",
]
