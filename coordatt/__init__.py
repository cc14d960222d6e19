"""coordatt: Coordinate Attention (Hou, Zhou, Feng, CVPR 2021) and MobileNetV2-CA, to phones."""
