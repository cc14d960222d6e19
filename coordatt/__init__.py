"""coordatt: Coordinate Attention (Hou, Zhou, Feng, CVPR 2021) and MobileNetV2-CA, to phones.

>>> import coordatt
>>> model = coordatt.create_model("mobilenetv2_ca")              # official random init
>>> model = coordatt.create_model("mobilenetv2_ca", weights="mbv2_ca.pth").eval()
"""

from .checkpoints import CheckpointError, load_checkpoint
from .complexity import count_macs, count_params
from .layers import CoordAtt
from .mobilenetv2 import IMAGENET_MEAN, IMAGENET_STD, InvertedResidual, MobileNetV2
from .registry import WIDTH_MULTS, create_model, list_models

__version__ = "0.1.0"

__all__ = [
    "CoordAtt",
    "CheckpointError",
    "IMAGENET_MEAN",
    "IMAGENET_STD",
    "InvertedResidual",
    "MobileNetV2",
    "WIDTH_MULTS",
    "count_macs",
    "count_params",
    "create_model",
    "list_models",
    "load_checkpoint",
]
