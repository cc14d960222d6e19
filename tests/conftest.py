"""Shared fixtures: small models for fast tests, the official-layout reference network."""

import os

import pytest
import torch

import coordatt


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


@pytest.fixture(scope="session")
def small_ca_model():
    """MobileNetV2-CA 0.5x in eval mode: the fast stand-in for the full network."""
    torch.manual_seed(0)
    return coordatt.create_model("mobilenetv2_ca", width_mult=0.5).eval()


@pytest.fixture
def tiny_model(monkeypatch):
    """Register 'tiny_ca': MobileNetV2-CA with 3 blocks (every op type of the full network), for
    pipeline mechanics (determinism, atomic writes, overwrite rules) where the full depth would
    only cost lowering time."""
    from coordatt import registry
    from coordatt.mobilenetv2 import MobileNetV2

    settings = ((1, 16, 1, 1), (6, 24, 2, 2))  # stem, t=1 block, CA blocks, a residual, head
    monkeypatch.setitem(registry._MODELS, "tiny_ca",
                        lambda **kw: MobileNetV2(coord_att=True, settings=settings, **kw))
    return "tiny_ca"


@pytest.fixture(scope="session")
def trained_net(tmp_path_factory):
    """MobileNetV2-CA 0.35x, 48x48, fine-tuned on a synthetic 10-class set (tests/trained.py):
    a :class:`trained.TrainedNet` (checkpoint, labels, data dir, val accuracy >= 0.80), built
    once per run and shared by the xdist workers."""
    from trained import get_trained_net

    base = tmp_path_factory.getbasetemp()  # under xdist: <run>/popen-gwN; the run's is its parent
    return get_trained_net(base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base)
