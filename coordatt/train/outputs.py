"""What a training run writes, each file atomically (temp file in the same folder + os.replace):
``<tag>.safetensors`` (a plain state_dict, the best epoch), ``labels.txt`` (one class a line,
UTF-8, index order) and ``<tag>.json`` (settings and per-epoch history).

``tag`` names the run the way export names artifacts: ``mobilenetv2_ca_035_64x64_10cls``.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch

from ..model_source import spec_name

__all__ = ["RunPaths", "run_paths", "write_atomic", "save_state_dict", "write_labels",
           "write_json"]


@dataclass(frozen=True)
class RunPaths:
    output_dir: Path
    checkpoint: Path
    labels: Path
    summary: Path

    def existing(self) -> list[Path]:
        return [p for p in (self.checkpoint, self.labels, self.summary) if p.exists()]


def run_tag(model: str, width_mult: float | None, input_size: tuple[int, int],
            num_classes: int) -> str:
    """``mobilenetv2_ca_035_64x64_10cls``; a factory ``pkg.mod:make_net`` is named ``make_net``."""
    return f"{_base(model, width_mult)}_{input_size[0]}x{input_size[1]}_{num_classes}cls"


def _base(model: str, width_mult: float | None) -> str:
    width = "" if width_mult is None else f"_{round(width_mult * 100):03d}"
    return spec_name(model) + width


def run_paths(output_dir: str | os.PathLike | None, model: str, width_mult: float | None,
              input_size: tuple[int, int], num_classes: int) -> RunPaths:
    """The run's files; ``output_dir`` None: ``runs/<model>_<width>``."""
    out = Path(output_dir) if output_dir is not None else Path("runs") / _base(model, width_mult)
    tag = run_tag(model, width_mult, input_size, num_classes)
    return RunPaths(out, out / f"{tag}.safetensors", out / "labels.txt", out / f"{tag}.json")


def write_atomic(path: Path, write: Callable[[Path], None]) -> Path:
    """Call ``write(tmp)`` on a temp file beside ``path``, then rename it into place: an
    interrupted write leaves the previous file (or none), never half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        write(Path(tmp))
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


def save_state_dict(state: dict[str, torch.Tensor], path: Path, metadata: dict[str, str]) -> Path:
    from safetensors.torch import save_file

    tensors = {k: v.detach().contiguous().clone() for k, v in state.items()}
    return write_atomic(path, lambda tmp: save_file(tensors, str(tmp), metadata=metadata))


def write_labels(classes: list[str], path: Path) -> Path:
    text = "".join(f"{name}\n" for name in classes)
    return write_atomic(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def write_json(obj: dict, path: Path) -> Path:
    text = json.dumps(obj, indent=2, ensure_ascii=False) + "\n"
    return write_atomic(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))
