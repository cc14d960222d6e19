"""Shared fixtures: small models for fast tests, the official-layout reference network."""

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
