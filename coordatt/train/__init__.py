"""Fine-tuning on an image folder (``coordatt-train``), and a synthetic labelled image set."""

from .data import DatasetSplit, find_dataset
from .loop import EpochStats, TrainConfig, TrainingInterrupted, TrainResult, train
from .model import build_for_finetuning, replace_classifier
from .synthetic import write_synthetic_dataset

__all__ = ["DatasetSplit", "EpochStats", "TrainConfig", "TrainResult", "TrainingInterrupted",
           "build_for_finetuning", "find_dataset", "replace_classifier", "train",
           "write_synthetic_dataset"]
