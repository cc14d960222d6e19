"""The README's own-backbone example, run as written (smaller input and fewer images): its
mynets.py, coordatt-train on a folder of class subfolders, coordatt-export pte + onnx + int8 with
the labels, coordatt-bench --artifacts on the result."""

import json
import re
import sys
from pathlib import Path

import pytest

from coordatt.bench.cli import main as bench_main
from coordatt.export.cli import main as export_main
from coordatt.export.sidecar import read_sidecar
from coordatt.train.cli import main as train_main
from coordatt.train.synthetic import write_synthetic_dataset

README = Path(__file__).resolve().parent.parent / "README.md"


def _readme_block(marker: str) -> str:
    text = README.read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    (block,) = [b for b in blocks if b.startswith(marker)]
    return block


def test_readme_commands_name_the_files_train_writes():
    text = README.read_text(encoding="utf-8")
    assert "runs/mynet_ca/mynet_ca_96x96_10cls.safetensors" in text
    assert "runs/mynet_ca/labels.txt" in text


@pytest.fixture
def user_folder(tmp_path, monkeypatch):
    (tmp_path / "mynets.py").write_text(_readme_block("# mynets.py"), encoding="utf-8")
    write_synthetic_dataset(tmp_path / "my_photos", train_per_class=40, val_per_class=0, size=56)
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    yield tmp_path
    sys.modules.pop("mynets", None)


def test_own_backbone_example(user_folder, capsys):
    size = ["--input-size", "48"]
    assert train_main(["--model", "mynets:mynet_ca", "--data", "my_photos", *size,
                       "--epochs", "12", "--lr", "3e-3", "--threads", "1", "-q"]) == 0
    run = user_folder / "runs" / "mynet_ca"
    ckpt = run / "mynet_ca_48x48_10cls.safetensors"
    summary = json.loads((run / "mynet_ca_48x48_10cls.json").read_text())
    assert ckpt.is_file() and (run / "labels.txt").is_file()
    # measured: val accuracy 10% for 3 epochs, then 95-100% from epoch 5 (chance: 10%)
    assert summary["best_val_acc"] >= 0.8, summary["epochs"]

    common = ["--model", "mynets:mynet_ca", *size, "--weights", str(ckpt),
              "--labels", str(run / "labels.txt")]
    assert export_main(["--format", "pte,onnx", *common]) == 0
    assert export_main(["--format", "pte", "--quantize", "int8", "--calibration-dir",
                        "my_photos", *common]) == 0
    artifacts = user_folder / "artifacts"
    labels = (run / "labels.txt").read_text(encoding="utf-8").split()
    for name in ("mynet_ca_xnnpack_fp32_48x48.pte", "mynet_ca_onnx_fp32_48x48.onnx",
                 "mynet_ca_xnnpack_int8_48x48.pte"):
        doc = read_sidecar(artifacts / name)
        assert doc["labels"] == labels and doc["verification"]["status"] == "passed", doc
        if name.endswith(".pte"):  # CA inserted by insert_coordatt stays inside the delegate
            report = doc["export"]["report"]
            assert report["delegates"] == 1 and report["non_delegated_ops"] == 0, report
    capsys.readouterr()
    assert bench_main(["--artifacts", "artifacts", "--iters", "2", "--warmup", "1",
                       "--block-size", "2", "--output-dir", "bench"]) == 0
    rows = json.loads((user_folder / "bench" / "results.json").read_text())["results"]
    measured = {r["runtime"] for r in rows if r["error"] is None}
    assert measured == {"eager", "onnxruntime", "executorch-xnnpack",
                        "executorch-xnnpack-int8"}, rows
    assert all(r["model"] == "mynet_ca" for r in rows)
