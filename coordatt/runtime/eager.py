"""Eager PyTorch: the reference every artifact is compared with."""

from __future__ import annotations

import numpy as np

from .base import Session, op_rows


class EagerSession(Session):
    def load(self) -> None:
        import torch

        if self.model is None:
            raise ValueError("the eager runtime needs a model, not an artifact")
        if self.threads is not None:
            torch.set_num_threads(self.threads)
        self.model.eval()

    def run(self, x: np.ndarray) -> np.ndarray:
        import torch

        with torch.inference_mode():
            return self.model(torch.from_numpy(x)).numpy()

    def profile(self, x: np.ndarray, n: int) -> list[dict]:
        import torch
        from torch.profiler import ProfilerActivity, profile

        inp = torch.from_numpy(x)
        with torch.inference_mode():
            self.model(inp)
            with profile(activities=[ProfilerActivity.CPU]) as prof:
                for _ in range(n):
                    self.model(inp)
        totals = {e.key: e.self_cpu_time_total / 1000.0 for e in prof.key_averages()
                  if e.self_cpu_time_total > 0}
        calls = {e.key: e.count for e in prof.key_averages()}
        return op_rows(totals, calls, n)
