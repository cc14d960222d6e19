"""Exporters: ExecuTorch .pte, ONNX and Core ML over one shared pipeline, each verified against
PyTorch in its own runtime.

>>> from coordatt.export import ExportConfig, export, export_model
>>> export(ExportConfig(model="mobilenetv2_ca", weights="mbv2_ca.pth"), ["pte", "onnx"])
>>> export_model(my_model.eval(), input_size=(224, 224), labels=names, formats=["pte"])
"""

from .pipeline import FORMATS, ExportConfig, ExportResult, export, export_model

__all__ = ["FORMATS", "ExportConfig", "ExportResult", "export", "export_model"]
