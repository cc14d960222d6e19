"""cpu_time_probe.py for ``.tflite`` artifacts too: the same interleaved blocks, wall and thread
CPU time per run, 1 thread, in one process, with ``.tflite`` files opened in LiteRT
(``litert`` / ``litert-int8`` from the sidecar's precision; cpu_time_probe.py itself knows only
``.pte`` and ``.onnx``).

At 1 thread LiteRT's XNNPACK delegate runs on the caller's thread (runtime/litert.py: a
1-thread interpreter starts no worker), so the thread's CPU time is the run's work.

    python benchmarks/ca_levers/litert_cpu_time_probe.py --out result.json a.tflite b.tflite ...
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import cpu_time_probe  # noqa: E402

from coordatt.runtime import open_session  # noqa: E402


def _open(runtime: str, path, threads=None):
    if Path(path).suffix == ".tflite":  # cpu_time_probe calls it "onnxruntime[-int8]"
        runtime = "litert-int8" if runtime.endswith("-int8") else "litert"
    return open_session(runtime, path, threads=threads)


if __name__ == "__main__":
    cpu_time_probe.open_session = _open
    cpu_time_probe.main()
