"""coordatt: Coordinate Attention (Hou, Zhou, Feng, CVPR 2021), MobileNetV2-CA and MobileNeXt-CA,
the SE and CBAM blocks they are compared with, to phones.

>>> import coordatt
>>> model = coordatt.create_model("mobilenetv2_ca")              # official random init
>>> model = coordatt.create_model("mobilenetv2_ca", weights="mbv2_ca.pth").eval()
>>> model = coordatt.insert_coordatt(my_cnn)                     # CA after every depthwise conv
"""

from .checkpoints import CheckpointError, load_checkpoint
from .complexity import count_macs, count_params
from .insert import insert_coordatt
from .layers import CBAM, CoordAtt, SqueezeExcite, get_attn
from .mobilenetv2 import IMAGENET_MEAN, IMAGENET_STD, InvertedResidual, MobileNetV2
from .mobilenext import MobileNeXt, SandGlass
from .registry import WIDTH_MULTS, create_model, list_models

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
