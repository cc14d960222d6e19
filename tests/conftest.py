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


@pytest.fixture
def tiny_model(monkeypatch):
    """Register 'tiny_ca': MobileNetV2-CA with 3 blocks (every op type of the full network), for
    pipeline mechanics (determinism, atomic writes, overwrite rules) where the full depth would
    only cost lowering time."""
    from artifact_cache import TINY_SETTINGS

    from coordatt import registry
    from coordatt.mobilenetv2 import MobileNetV2

    monkeypatch.setitem(registry._MODELS, "tiny_ca",
                        lambda **kw: MobileNetV2(coord_att=True, settings=TINY_SETTINGS, **kw))
    return "tiny_ca"


@pytest.fixture(scope="session")
def tiny_artifacts(tmp_path_factory):
    """tiny_ca's artifacts at 64x64 in every format, fp32 and int8, and the portable .pte,
    exported once per run (tests/artifact_cache.py). Read only: copy before changing."""
    from artifact_cache import tiny_artifacts

    return tiny_artifacts(tmp_path_factory)


@pytest.fixture(scope="session")
def trained_net(tmp_path_factory):
    """MobileNetV2-CA 0.35x, 48x48, fine-tuned on a synthetic 10-class set (tests/trained.py):
    a :class:`trained.TrainedNet` (checkpoint, labels, data dir, val accuracy >= 0.80), built
    once per run and shared by the xdist workers."""
    from artifact_cache import run_root
    from trained import get_trained_net

    return get_trained_net(run_root(tmp_path_factory))


@pytest.fixture(scope="session")
def trained_artifacts(trained_net, tmp_path_factory):
    """The trained network exported by coordatt-export once per run, every format fp32 and int8
    (trained.get_trained_artifacts): the folder. Read only: copy before changing."""
    from artifact_cache import run_root
    from trained import get_trained_artifacts

    return get_trained_artifacts(trained_net, run_root(tmp_path_factory))


# Modules that take longest (seconds of a `make test` run on 2 busy cores), longest first. With
# `--dist loadfile --no-loadscope-reorder` (Makefile) xdist hands whole modules to the workers
# in collection order, so this order is its schedule: long modules start first and the short
# ones fill in at the end (xdist's default order, most tests first, left 90 s modules to the
# end). A module that needs the trained network leads, the longest module that does not comes
# second: one worker trains the network while the other lowers the zoo. Modules not listed
# follow in their usual order.
LONGEST_FIRST = (
    "test_own_model_flow.py",
    "test_model_zoo_lowering.py",
    "test_eval.py",
    "test_export_formats.py",
    "test_int8_recipe.py",
    "test_readme_example.py",
    "test_bench.py",
    "test_export_litert.py",
    "test_export_pipeline.py",
    "test_own_model.py",
    "test_export_full_size.py",
    "test_export_cli.py",
    "test_check_files.py",
    "test_train.py",
    "test_export_ready.py",
    "test_robustness_export.py",
    "test_robustness_bench.py",
    "test_runtime.py",
    "test_export_onnx_int8.py",
    "test_export_int8.py",
)


def pytest_collection_modifyitems(config, items):
    rank = {name: i for i, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))  # stable within a module
