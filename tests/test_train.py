"""coordatt.train and coordatt-train: data scanning and splits, classifier replacement, what a run
writes and how it reloads, unreadable images, Ctrl-C, and the CLI's bad-input cases.

Mechanics run MobileNetV2-CA 0.35x at 32x32 on a few images (a second each); that training
learns is shown by the shared ``trained_net`` (tests/trained.py)."""

import json
import random
from pathlib import Path

import pytest
import torch
from torch import nn
from trained import MIN_VAL_ACC

import coordatt
from coordatt.train import (
    TrainConfig,
    TrainingInterrupted,
    build_for_finetuning,
    find_dataset,
    train,
)
from coordatt.train.cli import main
from coordatt.train.data import split_samples
from coordatt.train.synthetic import CLASSES, draw_example, write_synthetic_dataset

FAST = {"model": "mobilenetv2_ca", "width_mult": 0.35, "input_size": (32, 32), "epochs": 1,
        "batch_size": 4, "threads": 1}


def _draw(root: Path, classes=("circle", "square", "vstripes"), n: int = 6) -> Path:
    rng = random.Random(0)
    for name in classes:
        (root / name).mkdir(parents=True, exist_ok=True)
        for i in range(n):
            draw_example(CLASSES.index(name), 40, rng).save(root / name / f"{i}.png")
    return root


@pytest.fixture
def small_data(tmp_path) -> Path:
    """Three class folders of six 40x40 PNGs, no train/ val/ split."""
    return _draw(tmp_path / "data")


def _run(data: Path, out: Path, **kw):
    return train(TrainConfig(data=data, output_dir=out, **{**FAST, **kw}), progress=False)


def test_trained_net_learns(trained_net):
    """The shared test network: 10 classes (chance 10%), validation accuracy >= 80%."""
    assert trained_net.num_classes == len(CLASSES) and trained_net.labels == list(CLASSES)
    assert trained_net.val_acc >= MIN_VAL_ACC >= 1 / trained_net.num_classes + 0.7
    history = json.loads(trained_net.summary.read_text())["epochs"]
    assert history[-1]["train_loss"] < history[0]["train_loss"] - 0.5
    assert trained_net.labels_path.read_text(encoding="utf-8").splitlines() == trained_net.labels
    model = trained_net.load()
    x = torch.cat([coordatt.preprocess.load_image(p, coordatt.preprocess.preprocess_config(
        trained_net.input_size)) for p in trained_net.val_images(2)])
    hits = (model(x).argmax(1) == torch.arange(10).repeat_interleave(2)).float().mean()
    assert hits >= 0.6  # 20 images of the val set, by the export's preprocessing


def test_split_is_seeded_stratified_and_disjoint(tmp_path):
    data = write_synthetic_dataset(tmp_path, train_per_class=10, val_per_class=0, size=32)
    a, b = find_dataset(data, 0.2, seed=1), find_dataset(data, 0.2, seed=1)
    assert (a.train, a.val) == (b.train, b.val)
    assert a.val != find_dataset(data, 0.2, seed=2).val
    assert not set(a.train) & set(a.val) and len(a.train) + len(a.val) == 100
    assert [sum(y == c for _, y in a.val) for c in range(10)] == [2] * 10
    assert a.classes == list(CLASSES) and "seeded split" in a.layout
    with pytest.raises(ValueError, match="val split"):
        split_samples(a.train, 1.0, 0)


def test_train_and_val_folders_are_honoured(tmp_path):
    data = write_synthetic_dataset(tmp_path, train_per_class=3, val_per_class=2, size=32)
    split = find_dataset(data, val_split=0.5)
    assert split.layout == "train/ and val/ folders"
    assert {p.parts[-3] for p, _ in split.train} == {"train"} and len(split.train) == 30
    assert {p.parts[-3] for p, _ in split.val} == {"val"} and len(split.val) == 20
    assert all(split.classes[y] == p.parent.name for p, y in split.val)


def test_classifier_is_replaced_after_loading_the_checkpoint(tmp_path):
    from safetensors.torch import save_file

    source = coordatt.create_model("mobilenetv2_ca", width_mult=0.35, num_classes=7)
    ckpt = tmp_path / "seven.safetensors"
    save_file(source.state_dict(), str(ckpt))
    model = build_for_finetuning("mobilenetv2_ca", num_classes=3, input_size=(32, 32),
                                 width_mult=0.35, weights=ckpt)
    assert model.classifier.out_features == 3
    kept = {k: v for k, v in source.state_dict().items() if not k.startswith("classifier")}
    assert all(torch.equal(model.state_dict()[k], v) for k, v in kept.items())


def test_factory_without_reset_classifier_gets_its_last_linear_replaced(tmp_path, monkeypatch):
    (tmp_path / "tinyfactory_ok.py").write_text(
        "from torch import nn\n"
        "def make():\n"
        "    return nn.Sequential(nn.Conv2d(3, 8, 3, 2), nn.BatchNorm2d(8), nn.ReLU(),\n"
        "                         nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, 5))\n")
    monkeypatch.chdir(tmp_path)
    model = build_for_finetuning("tinyfactory_ok:make", num_classes=3, input_size=(32, 32))
    assert isinstance(model[-1], nn.Linear) and model[-1].out_features == 3


def test_checkpoint_and_labels_reload_with_the_same_logits(small_data, tmp_path):
    result = _run(small_data, tmp_path / "out", epochs=2)
    assert result.checkpoint.name == "mobilenetv2_ca_035_32x32_3cls.safetensors"
    assert result.labels.read_text(encoding="utf-8") == "circle\nsquare\nvstripes\n"
    reloaded = coordatt.create_model("mobilenetv2_ca", width_mult=0.35, num_classes=3,
                                     weights=result.checkpoint).eval()
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        torch.testing.assert_close(reloaded(x), result.model(x), rtol=0, atol=0)
    summary = json.loads(result.summary.read_text())
    assert len(summary["epochs"]) == 2 and summary["best_epoch"] == result.best_epoch
    assert summary["model"] == "mobilenetv2_ca" and summary["input_size"] == [32, 32]
    assert summary["settings"]["optimizer"] == "adamw" and not summary["interrupted"]
    assert not list(result.checkpoint.parent.glob("*.tmp"))


def test_freeze_backbone_trains_only_the_classifier(small_data, tmp_path):
    result = _run(small_data, tmp_path / "out", freeze_backbone=True, optimizer="sgd")
    start = build_for_finetuning("mobilenetv2_ca", num_classes=3, input_size=(32, 32),
                                 width_mult=0.35).state_dict()  # same seed, same init
    trained = result.model.state_dict()
    changed = {k for k in start if not torch.equal(start[k], trained[k])}
    assert changed == {"classifier.weight", "classifier.bias"}


@pytest.mark.parametrize("found_at", ["scan", "load"])
def test_unreadable_images_are_skipped_and_counted(found_at, small_data, tmp_path, monkeypatch):
    (small_data / "circle" / "garbage.png").write_bytes(b"not an image")
    good = (small_data / "square" / "0.png").read_bytes()
    (small_data / "square" / "truncated.png").write_bytes(good[: len(good) // 2])
    if found_at == "load":  # data that passes the scan's cheap check fails when decoded
        monkeypatch.setattr("coordatt.train.data._readable", lambda path: True)
    result = _run(small_data, tmp_path / "out", epochs=2, seed=3)
    assert sorted(p.name for p in result.skipped) == ["garbage.png", "truncated.png"]
    summary = json.loads(result.summary.read_text())
    assert summary["data"]["skipped_images"] == 2 and result.checkpoint.is_file()


def test_ctrl_c_keeps_the_best_checkpoint_so_far(small_data, tmp_path):
    def stop(epoch, step):
        if epoch == 2 and step == 1:
            raise KeyboardInterrupt

    config = TrainConfig(data=small_data, output_dir=tmp_path / "out", **{**FAST, "epochs": 3})
    with pytest.raises(TrainingInterrupted) as info:
        train(config, progress=False, on_batch=stop)
    result = info.value.result
    assert result.interrupted and result.best_epoch == 1 and result.checkpoint.is_file()
    assert json.loads(result.summary.read_text())["interrupted"] is True
    coordatt.create_model("mobilenetv2_ca", width_mult=0.35, num_classes=3,
                          weights=result.checkpoint)


def test_cli_ctrl_c_exits_130_and_says_where(small_data, tmp_path, monkeypatch, capsys):
    import coordatt.train.cli as cli

    def interrupted_train(config, progress):
        return train(config, progress=False, on_batch=lambda e, s: _raise_at(e, 2))

    monkeypatch.setattr(cli, "train", interrupted_train)
    out = tmp_path / "out"
    code = main(["--data", str(small_data), "--output-dir", str(out), "--epochs", "2",
                 "--width-mult", "0.35", "--input-size", "32", "--batch-size", "4"])
    err = capsys.readouterr().err
    assert code == 130 and "kept at" in err and str(out) in err
    assert len(list(out.glob("*.safetensors"))) == 1


def _raise_at(epoch: int, at: int) -> None:
    if epoch == at:
        raise KeyboardInterrupt


def test_cli_trains_and_refuses_to_overwrite(small_data, tmp_path, capsys):
    out = tmp_path / "out"
    args = ["--data", str(small_data), "--output-dir", str(out), "--epochs", "1", "-q",
            "--width-mult", "0.35", "--input-size", "32", "--batch-size", "4", "--threads", "1"]
    assert main(args) == 0
    assert "coordatt-export" in capsys.readouterr().out
    before = {p: p.stat().st_mtime_ns for p in out.iterdir()}
    assert main(args) == 2
    assert "exists; pass --overwrite" in capsys.readouterr().err
    assert {p: p.stat().st_mtime_ns for p in out.iterdir()} == before
    assert main(args + ["--overwrite", "--optimizer", "sgd", "--freeze-backbone",
                        "--workers", "1"]) == 0


def test_image_loaders_pickle_for_worker_processes(small_data):
    """spawn/forkserver DataLoader workers (macOS, Python 3.14) unpickle the dataset."""
    import pickle

    from coordatt.train.data import EvalImageLoader, ImageFolderDataset, TrainImageLoader

    samples = find_dataset(small_data).train[:2]
    for load in (TrainImageLoader((32, 32)), EvalImageLoader((32, 32))):
        copy = pickle.loads(pickle.dumps(ImageFolderDataset(samples, load)))
        torch.manual_seed(1)
        x = copy[0][0]
        torch.manual_seed(1)
        assert torch.equal(x, load(samples[0][0])) and x.shape == (3, 32, 32)


FACTORIES = {
    "broken_import": "import not_a_module_anywhere\n",
    "raises": "def make():\n    raise RuntimeError('boom')\n",
    "not_module": "def make():\n    return 42\n",
}


@pytest.mark.parametrize("case, message", [
    ("one_class", "need at least 2"),
    ("empty_class", "no readable"),
    ("missing", "not found"),
    ("broken_import", "cannot import"),
    ("raises", "raised RuntimeError"),
    ("not_module", "not a torch.nn.Module"),
    ("epochs", "epochs must be >= 1"),
    ("lr", "lr must be > 0"),
    ("val_split", "val split"),
    ("optimizer", "unknown optimizer"),
])
def test_cli_bad_input_is_one_line_exit_2_nothing_written(case, message, small_data, tmp_path,
                                                           monkeypatch, capsys):
    data, extra = small_data, ["--width-mult", "0.35"]
    if case == "one_class":
        data = _draw(tmp_path / "one", classes=("circle",))
    elif case == "empty_class":
        (small_data / "zebra").mkdir()
    elif case == "missing":
        data = tmp_path / "nowhere"
    elif case in FACTORIES:
        (tmp_path / f"factory_{case}.py").write_text(FACTORIES[case])
        monkeypatch.chdir(tmp_path)
        extra = ["--model", f"factory_{case}:make"]
    else:
        extra += {"epochs": ["--epochs", "0"], "lr": ["--lr", "-1"],
                 "val_split": ["--val-split", "1.5"], "optimizer": ["--optimizer", "adam"]}[case]
    out = tmp_path / "out"
    code = main(["--data", str(data), "--output-dir", str(out), "--input-size", "32", "-q",
                 *extra])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("error: ") and message in err and len(err.strip().splitlines()) == 1
    assert "Traceback" not in err and not out.exists()
