"""Result rows from the output of benchmark tools people already run on phones.

Each parser turns one tool's output into rows of ``results.json`` (docs/formats.md); each
module's docstring names the tool's source it was checked against and the lines it reads.
Statistics come from :func:`coordatt.bench.stats.summarize` whenever the tool gives every timed
run; a statistic the tool does not give, or gives with a different definition, is left null and
what the tool did report is kept in ``reported_ms`` with a ``note`` saying why.

Accepted formats (:data:`FORMATS`, tried in this order):
  - ``coordatt``: our own ``benchmark_results.json`` / ``results.json`` (coordatt_json.py)
  - ``minibench``: ExecuTorch's Android benchmark app JSON (minibench.py)
  - ``executor_runner``: ExecuTorch's runner, stderr or logcat (executor_runner.py)
  - ``onnxruntime_perf_test``: ONNX Runtime's perf test (onnxruntime_perf_test.py)
  - ``benchmark_model``: LiteRT's (TensorFlow Lite's) tool, stdout or logcat (benchmark_model.py)
"""

from .loader import FORMATS, load_device_log, parse_device_log
from .rows import DeviceLogError, parse_artifact_name

__all__ = [
    "DeviceLogError",
    "FORMATS",
    "load_device_log",
    "parse_artifact_name",
    "parse_device_log",
]
