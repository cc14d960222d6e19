"""Fine-tuning on an image folder: AdamW or SGD, a per-step cosine schedule with optional linear
warm-up, validation each epoch, the best epoch's weights kept on disk as they come.

BatchNorm and Coordinate Attention train with the rest (train mode); ``freeze_backbone`` trains
only the classifier and keeps the backbone's BatchNorm statistics as loaded.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from ..preprocess import preprocess_config
from .data import (
    EvalImageLoader,
    ImageFolderDataset,
    TrainImageLoader,
    collate_skipping,
    find_dataset,
)
from .model import build_for_finetuning, classifier_of
from .outputs import run_paths, save_state_dict, write_json, write_labels

__all__ = ["TrainConfig", "EpochStats", "TrainResult", "TrainingInterrupted", "train",
           "OPTIMIZERS"]

OPTIMIZERS = ("adamw", "sgd")
_DEFAULT_LR = {"adamw": 1e-3, "sgd": 0.05}
_DEFAULT_WD = {"adamw": 0.05, "sgd": 4e-5}  # sgd: the MobileNetV2 paper's


@dataclass
class TrainConfig:
    """Settings of a run; ``lr`` / ``weight_decay`` None take the optimizer's default."""

    data: str | os.PathLike
    model: str = "mobilenetv2_ca"
    width_mult: float | None = None  # None: the model's default (1.0 for registered models)
    weights: str | os.PathLike | None = None
    input_size: tuple[int, int] = (224, 224)
    epochs: int = 10
    batch_size: int = 32
    lr: float | None = None
    weight_decay: float | None = None
    optimizer: str = "adamw"
    warmup_epochs: float = 0.0
    val_split: float = 0.2
    seed: int = 0
    workers: int = 0
    threads: int | None = None
    output_dir: str | os.PathLike | None = None
    overwrite: bool = False
    freeze_backbone: bool = False
    crop_scale: tuple[float, float] = (0.08, 1.0)  # random resized crop's area range
    label_smoothing: float = 0.0

    def check(self) -> None:
        """ValueError naming the first bad setting."""
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"unknown optimizer {self.optimizer!r}; choose from "
                             f"{', '.join(OPTIMIZERS)}")
        rules = [("epochs", self.epochs >= 1, ">= 1"), ("batch size", self.batch_size >= 2, ">= 2"),
                 ("lr", self.lr is None or self.lr > 0, "> 0"),
                 ("weight decay", self.weight_decay is None or self.weight_decay >= 0, ">= 0"),
                 ("warm-up epochs", 0 <= self.warmup_epochs <= self.epochs, "in 0..epochs"),
                 ("val split", 0 < self.val_split < 1, "between 0 and 1"),
                 ("workers", self.workers >= 0, ">= 0"),
                 ("threads", self.threads is None or self.threads >= 1, ">= 1"),
                 ("input size", min(self.input_size) >= 32, ">= 32"),
                 ("crop scale", 0 < self.crop_scale[0] <= self.crop_scale[1] <= 1, "in (0, 1]"),
                 ("label smoothing", 0 <= self.label_smoothing < 1, "in [0, 1)")]
        for name, ok, valid in rules:
            if not ok:
                value = getattr(self, name.replace(" ", "_").replace("-", ""), None)
                raise ValueError(f"{name} must be {valid}, got {value}")


@dataclass
class EpochStats:
    epoch: int
    train_loss: float
    train_acc: float
    val_loss: float
    val_acc: float
    lr: float
    seconds: float


@dataclass
class TrainResult:
    """A run's outcome; ``model`` holds the best epoch's weights, in eval mode."""

    model: nn.Module
    model_name: str
    width_mult: float | None  # None for a factory that takes no width
    input_size: tuple[int, int]
    classes: list[str]
    checkpoint: Path | None  # None when interrupted before the first epoch ended
    labels: Path | None
    summary: Path | None
    history: list[EpochStats] = field(default_factory=list)
    best_epoch: int = 0
    best_val_acc: float = 0.0
    skipped: list[Path] = field(default_factory=list)  # unreadable images, not trained on
    interrupted: bool = False
    seconds: float = 0.0

    @property
    def num_classes(self) -> int:
        return len(self.classes)


class TrainingInterrupted(KeyboardInterrupt):
    """Ctrl-C during training; ``result`` says what was kept (the best checkpoint so far)."""

    def __init__(self, result: TrainResult) -> None:
        super().__init__("training interrupted")
        self.result = result


def _optimizer(model: nn.Module, config: TrainConfig) -> torch.optim.Optimizer:
    lr = config.lr or _DEFAULT_LR[config.optimizer]
    wd = _DEFAULT_WD[config.optimizer] if config.weight_decay is None else config.weight_decay
    params = [p for p in model.parameters() if p.requires_grad]
    # no decay on BN affine parameters and biases (the timm habit)
    groups = [{"params": [p for p in params if p.ndim > 1], "weight_decay": wd},
              {"params": [p for p in params if p.ndim <= 1], "weight_decay": 0.0}]
    if config.optimizer == "sgd":
        return torch.optim.SGD(groups, lr=lr, momentum=0.9, nesterov=True)
    return torch.optim.AdamW(groups, lr=lr)


def _cosine(total_steps: int, warmup_steps: int) -> Callable[[int], float]:
    def factor(step: int) -> float:
        if step < warmup_steps:
            return (step + 1) / warmup_steps
        t = (step - warmup_steps) / max(1, total_steps - warmup_steps)
        return 0.5 * (1 + math.cos(math.pi * min(1.0, t)))

    return factor


def _freeze_backbone(model: nn.Module) -> set[nn.Module]:
    head = set(classifier_of(model).modules())
    for m in model.modules():
        if m not in head:
            for p in m.parameters(recurse=False):
                p.requires_grad_(False)
    return head


def _train_mode(model: nn.Module, head: set[nn.Module] | None) -> None:
    model.train()
    if head is not None:  # a frozen backbone keeps its BN statistics too
        for m in model.modules():
            if m not in head and isinstance(m, nn.modules.batchnorm._BatchNorm):
                m.eval()


@torch.no_grad()
def evaluate(model: nn.Module, loader, bad: set[str]) -> tuple[float, float]:
    """Mean cross-entropy and top-1 accuracy over ``loader``; unreadable files go to ``bad``."""
    model.eval()
    loss_sum, correct, n = 0.0, 0, 0
    for x, y, unreadable in loader:
        bad.update(unreadable)
        if len(y):
            logits = model(x)
            loss_sum += float(F.cross_entropy(logits, y, reduction="sum"))
            correct += int((logits.argmax(1) == y).sum())
            n += len(y)
    return loss_sum / max(n, 1), correct / max(n, 1)


def train(config: TrainConfig, *, progress: bool = True,
          on_batch: Callable[[int, int], None] | None = None) -> TrainResult:
    """Fine-tune ``config.model`` on ``config.data``; returns the best epoch's result.

    Bad settings, data or models raise ValueError (CheckpointError for a checkpoint) before
    anything is written. ``on_batch(epoch, step)`` is called before each training step (epochs
    from 1). Ctrl-C raises :class:`TrainingInterrupted` carrying the best result so far.
    """
    config.check()
    threads = torch.get_num_threads()
    if config.threads:
        torch.set_num_threads(config.threads)
    try:
        return _train(config, progress, on_batch)
    finally:  # the caller's process keeps its own setting (a test worker, a notebook)
        torch.set_num_threads(threads)


def _train(config: TrainConfig, progress: bool, on_batch) -> TrainResult:
    from tqdm import tqdm

    start = time.perf_counter()
    data = find_dataset(config.data, config.val_split, config.seed)
    size = tuple(config.input_size)
    width = config.width_mult if config.width_mult is not None or ":" in config.model else 1.0
    paths = run_paths(config.output_dir, config.model, width, size, len(data.classes))
    if paths.existing() and not config.overwrite:
        raise ValueError(f"{paths.existing()[0]} exists; pass --overwrite to replace it")
    torch.manual_seed(config.seed)
    model = build_for_finetuning(config.model, num_classes=len(data.classes), input_size=size,
                                 width_mult=config.width_mult, weights=config.weights,
                                 seed=config.seed)
    head = _freeze_backbone(model) if config.freeze_backbone else None

    def loader(samples, load, shuffle):
        return torch.utils.data.DataLoader(
            ImageFolderDataset(samples, load), batch_size=config.batch_size, shuffle=shuffle,
            num_workers=config.workers, collate_fn=collate_skipping,
            drop_last=shuffle and len(samples) > config.batch_size,  # no 1-image BN batches
            generator=torch.Generator().manual_seed(config.seed) if shuffle else None,
            persistent_workers=config.workers > 0)

    train_dl = loader(data.train, TrainImageLoader(size, config.crop_scale), True)
    val_dl = loader(data.val, EvalImageLoader(size), False)
    optimizer = _optimizer(model, config)
    steps = len(train_dl) * config.epochs
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, _cosine(steps, round(config.warmup_epochs * len(train_dl))))

    bad: set[str] = set()
    result = TrainResult(model, config.model, width, size, data.classes,
                         None, None, None)
    best_state = None

    def summary() -> dict:
        settings = {k: (str(v) if isinstance(v, os.PathLike) else v)
                    for k, v in asdict(config).items()}
        skipped = sorted({str(p) for p in data.skipped} | bad)
        return {"model": config.model, "width_mult": width, "input_size": list(size),
                "num_classes": len(data.classes), "checkpoint": paths.checkpoint.name,
                "labels": paths.labels.name, "preprocess": preprocess_config(size),
                "best_epoch": result.best_epoch, "best_val_acc": result.best_val_acc,
                "interrupted": result.interrupted, "seconds": round(time.perf_counter() - start, 2),
                "data": {"root": str(config.data), "layout": data.layout,
                         "train_images": len(data.train), "val_images": len(data.val),
                         "skipped_images": len(skipped), "skipped_files": skipped[:20]},
                "settings": settings, "epochs": [asdict(e) for e in result.history]}

    try:
        for epoch in range(1, config.epochs + 1):
            t0 = time.perf_counter()
            _train_mode(model, head)
            loss_sum, correct, n = 0.0, 0, 0
            bar = tqdm(train_dl, desc=f"epoch {epoch}/{config.epochs}", unit="batch",
                       disable=not progress, dynamic_ncols=True, leave=True)
            for step, (x, y, unreadable) in enumerate(bar):
                bad.update(unreadable)
                if on_batch is not None:
                    on_batch(epoch, step)
                if len(y) < 2:
                    continue
                logits = model(x)
                loss = F.cross_entropy(logits, y, label_smoothing=config.label_smoothing)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                scheduler.step()
                loss_sum += float(loss.detach()) * len(y)
                correct += int((logits.argmax(1) == y).sum())
                n += len(y)
                bar.set_postfix(loss=f"{loss_sum / n:.3f}", acc=f"{correct / n:.1%}")
            val_loss, val_acc = evaluate(model, val_dl, bad)
            stats = EpochStats(epoch, loss_sum / max(n, 1), correct / max(n, 1), val_loss,
                               val_acc, optimizer.param_groups[0]["lr"],
                               round(time.perf_counter() - t0, 2))
            result.history.append(stats)
            if progress:
                tqdm.write(f"epoch {epoch}: train loss {stats.train_loss:.3f} acc "
                           f"{stats.train_acc:.1%}, val loss {val_loss:.3f} acc {val_acc:.1%}")
            if best_state is None or val_acc > result.best_val_acc:
                best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
                result.best_epoch, result.best_val_acc = epoch, val_acc
                save_state_dict(best_state, paths.checkpoint, {
                    "model": config.model, "width_mult": str(width),
                    "input_size": f"{size[0]}x{size[1]}", "num_classes": str(len(data.classes)),
                    "epoch": str(epoch), "val_acc": f"{val_acc:.4f}"})
                write_labels(data.classes, paths.labels)
                result.checkpoint, result.labels = paths.checkpoint, paths.labels
            write_json(summary(), paths.summary)
            result.summary = paths.summary
    except KeyboardInterrupt:
        result.interrupted = True
        if best_state is not None:
            write_json(summary(), paths.summary)
        _finish(result, best_state, data.skipped, bad, start)
        raise TrainingInterrupted(result) from None
    return _finish(result, best_state, data.skipped, bad, start)


def _finish(result: TrainResult, best_state, skipped, bad, start) -> TrainResult:
    if best_state is not None:
        result.model.load_state_dict(best_state)
    result.model.eval()
    result.skipped = sorted({Path(p) for p in skipped} | {Path(p) for p in bad})
    result.seconds = time.perf_counter() - start
    return result
