"""The full network, 1.0x at 224x224, as the phone gets it."""


import pytest

from coordatt.export.pipeline import ExportConfig, export
from coordatt.export.pte import inspect_pte


@pytest.mark.slow
def test_full_size_pte(tmp_path):
    (r,) = export(ExportConfig(output_dir=tmp_path), ["pte"], progress=False)
    assert r.target.path.name == "mobilenetv2_ca_100_xnnpack_fp32.pte"
    info = inspect_pte(r.target.path.read_bytes())
    assert info["delegates"] == 1 and info["operators"] == []
    assert r.verification["status"] == "passed"
    assert 15e6 < r.size_bytes < 17e6  # 3.95M fp32 parameters
