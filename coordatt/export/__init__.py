"""Exporters: ExecuTorch .pte, ONNX and Core ML over one shared pipeline, each verified against
PyTorch in its own runtime."""
