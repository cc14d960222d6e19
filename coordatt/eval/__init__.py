"""Evaluation: accuracy of exported artifacts on labelled images beside eager PyTorch
(``coordatt-eval --data``), and an artifact's check against its check file where it runs
(``coordatt-eval --check``)."""

from .check import CheckRow, check_artifacts, run_check
from .evaluate import SCHEMA, EvalConfig, evaluate, evaluate_subjects

__all__ = ["EvalConfig", "evaluate", "evaluate_subjects", "run_check", "check_artifacts",
           "CheckRow", "SCHEMA"]
