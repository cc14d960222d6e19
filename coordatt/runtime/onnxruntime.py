"""ONNX Runtime: an ``.onnx`` (fp32, or int8 QDQ) on the CPU execution provider.

``threads`` intra-op threads (None: ORT's default), one inter-op thread, ORT's own logging off.
The profile is ORT's built-in profiler, per node, grouped by operator type.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections import defaultdict
from pathlib import Path

import numpy as np

from ..errors import require
from .base import Session, op_rows

__all__ = ["OnnxRuntimeSession", "ort_session"]


def ort_session(path: str | os.PathLike, threads: int | None = None,
                profile_prefix: str | None = None, xnnpack: bool = False):
    """An ONNX Runtime CPU session; its profiler on when ``profile_prefix`` is given. With
    ``xnnpack``, the XNNPACK execution provider with ``threads`` (ORT's own intra-op pool at 1
    thread, not spinning, as ORT's docs advise) and the CPU provider for what it leaves."""
    ort = require("onnxruntime", "onnx")
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1 if xnnpack else threads or 0
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    if profile_prefix is not None:
        options.enable_profiling = True
        options.profile_file_prefix = profile_prefix
    providers: list = ["CPUExecutionProvider"]
    if xnnpack:
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        providers.insert(0, ("XnnpackExecutionProvider",
                             {"intra_op_num_threads": str(threads or 1)}))
    return ort.InferenceSession(str(path), options, providers=providers)


class OnnxRuntimeSession(Session):
    def prepare(self) -> None:
        require("onnxruntime", "onnx")

    def load(self) -> None:
        self.session = ort_session(self.path, self.threads,
                                   xnnpack=self.runtime.startswith("onnxruntime-xnnpack"))
        self._input = self.session.get_inputs()[0].name
        self._output = self.session.get_outputs()[0].name

    def run(self, x: np.ndarray) -> np.ndarray:
        return self.session.run([self._output], {self._input: x})[0]

    def close(self) -> None:
        self.session = None

    def profile(self, x: np.ndarray, n: int) -> list[dict]:
        with tempfile.TemporaryDirectory() as tmp:
            session = ort_session(self.path, self.threads, str(Path(tmp) / "ort"),
                                  xnnpack=self.runtime.startswith("onnxruntime-xnnpack"))
            feed = {session.get_inputs()[0].name: x}
            for _ in range(n + 1):
                session.run(None, feed)
            events = json.loads(Path(session.end_profiling()).read_text())
        totals: dict[str, float] = defaultdict(float)
        calls: dict[str, int] = defaultdict(int)
        for e in events:
            if e.get("cat") == "Node" and e.get("name", "").endswith("_kernel_time"):
                op = e.get("args", {}).get("op_name", "?")
                totals[op] += e["dur"] / 1000.0
                calls[op] += 1
        return op_rows(totals, calls, n + 1)
