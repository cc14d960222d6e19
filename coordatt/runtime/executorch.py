"""ExecuTorch: a ``.pte`` in ExecuTorch's runtime (XNNPACK delegate or portable kernels).

Threads: XNNPACK's threadpool is process-global; ``threads`` resets it before loading (None
leaves it as it is). The profile is an ETDump read by the devtools Inspector: one row per
XNNPACK operator inside the delegate.
"""

from __future__ import annotations

import re
import tempfile
from collections import defaultdict
from pathlib import Path

import numpy as np

from ..errors import require
from .base import Session, op_rows


class ExecuTorchSession(Session):
    def prepare(self) -> None:
        import torch

        self._torch = torch
        self._runtime = require("executorch.runtime", "executorch").Runtime.get()
        if self.threads is not None:
            from executorch.extension.pybindings import portable_lib

            portable_lib._unsafe_reset_threadpool(self.threads)

    def load(self) -> None:
        self.method = self._runtime.load_program(str(self.path)).load_method("forward")

    def run(self, x: np.ndarray) -> np.ndarray:
        out = self.method.execute([self._torch.from_numpy(np.ascontiguousarray(x))])[0]
        return out.numpy().copy()

    def close(self) -> None:
        self.method = None

    def profile(self, x: np.ndarray, n: int) -> list[dict]:
        from executorch.devtools import Inspector
        from executorch.extension.pybindings import portable_lib

        module = portable_lib._load_for_executorch(str(self.path), enable_etdump=True,
                                                   debug_buffer_size=0)
        inputs = [self._torch.from_numpy(x)]
        module.forward(inputs)  # warm-up, recorded too: averaged over n + 1 below
        for _ in range(n):
            module.forward(inputs)
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "run.etdp"
            module.write_etdump_result_to_file(str(path))
            frame = Inspector(etdump_path=str(path)).to_dataframe()
        totals: dict[str, float] = defaultdict(float)
        calls: dict[str, int] = defaultdict(int)
        runs = n + 1
        for _, row in frame.iterrows():
            name = str(row["event_name"])
            if name in ("Method::execute", "Program::load_method", "Method::init") or \
                    name.startswith("DELEGATE_CALL"):
                continue  # containers of the operator rows, not operators
            kind = re.sub(r"\s*#\d+$", "", name)  # "Convolution (NHWC, F32) IGEMM #12" -> kind
            samples = row["raw"] if isinstance(row.get("raw"), list) else [row["avg"]] * runs
            totals[kind] += float(np.sum(samples))
            calls[kind] += len(samples)
        return op_rows(totals, calls, runs)
