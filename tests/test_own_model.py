"""The user's own model through export and bench: an nn.Module, a factory, a checkpoint with its
own class count, labels inline in every sidecar, and the bad inputs around them."""

import json
import textwrap

import pytest
import torch
from torch import nn

import coordatt
from coordatt.bench.cli import main as bench_main
from coordatt.errors import ExportError
from coordatt.export import export_model
from coordatt.export.cli import main as export_main
from coordatt.export.pipeline import ExportConfig, export
from coordatt.export.sidecar import read_sidecar

FACTORIES = textwrap.dedent('''
    import torch
    from torch import nn
    from coordatt import CoordAtt

    class Net(nn.Module):
        pretrained_cfg = {"mean": (0.5, 0.5, 0.5), "std": (0.25, 0.25, 0.25)}

        def __init__(self, num_classes=4):
            super().__init__()
            self.stem = nn.Sequential(nn.Conv2d(3, 16, 3, 2, 1), nn.BatchNorm2d(16), nn.ReLU())
            self.attn = CoordAtt(16)
            self.fc = nn.Linear(16, num_classes)

        def forward(self, x):
            return self.fc(torch.flatten(self.attn(self.stem(x)).mean((2, 3), keepdim=True), 1))

    def net(num_classes=4):
        return Net(num_classes)

    def fixed():  # takes no num_classes: the classifier is replaced for a checkpoint's count
        return Net(4)

    def not_a_module():
        return 42

    def raises():
        raise RuntimeError("no GPU here")

    class Branchy(nn.Module):
        def forward(self, x):
            if x.sum() > 0:
                return x.mean((2, 3))
            return x.amax((2, 3))

    def branchy():
        return Branchy()
''')


@pytest.fixture
def factories(tmp_path, monkeypatch):
    """A folder with the user's own module ``usernets`` as the current folder."""
    (tmp_path / "usernets.py").write_text(FACTORIES)
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    yield tmp_path
    import sys

    sys.modules.pop("usernets", None)


class SmallCA(nn.Module):
    def __init__(self, num_classes=3):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 8, 3, 2, 1), nn.BatchNorm2d(8), nn.ReLU())
        self.attn = coordatt.CoordAtt(8)
        self.fc = nn.Linear(8, num_classes)

    def forward(self, x):
        return self.fc(torch.flatten(self.attn(self.stem(x)).mean((2, 3), keepdim=True), 1))


def test_export_model_takes_a_module_with_labels(tmp_path):
    model = SmallCA().eval()
    results = export_model(model, input_size=(64, 48), labels=["cat", "dog", "ünïcode bird"],
                           formats=["pte", "onnx"], name="pets", output_dir=tmp_path,
                           progress=False)
    assert [r.target.path.name for r in results] == ["pets_xnnpack_fp32_64x48.pte",
                                                     "pets_onnx_fp32_64x48.onnx"]
    for r in results:
        assert r.verification["status"] == "passed"
        doc = read_sidecar(r.target.path)
        assert doc["labels"] == ["cat", "dog", "ünïcode bird"] and doc["labels_source"] == "list"
        assert doc["num_classes"] == 3 and doc["output"]["shape"] == [1, 3]
        assert doc["width_mult"] is None and doc["name"] == "pets"
        assert doc["model"].endswith("test_own_model.SmallCA")
        assert len(doc["identity"]["weights_sha256"]) == 64
    assert results[0].report["delegates"] == 1 and results[0].report["non_delegated_ops"] == 0


def test_export_model_rejects_bad_modules_and_labels(tmp_path):
    model = SmallCA().eval()
    with pytest.raises(ValueError, match="training mode"):
        export_model(SmallCA(), input_size=(64, 64), output_dir=tmp_path)
    with pytest.raises(ValueError, match="has 2 names but the classifier has 3 outputs"):
        export_model(model, input_size=(64, 64), labels=["a", "b"], output_dir=tmp_path)
    with pytest.raises(ValueError, match="duplicate class name 'a'"):
        export_model(model, input_size=(64, 64), labels=["a", "b", "a"], output_dir=tmp_path)
    with pytest.raises(ValueError, match="class 1 has an empty name"):
        export_model(model, input_size=(64, 64), labels=["a", " ", "c"], output_dir=tmp_path)
    with pytest.raises(ValueError, match="expected a torch.nn.Module"):
        export_model("model.pt", input_size=(64, 64), output_dir=tmp_path)
    assert not any(tmp_path.iterdir())


def test_factory_checkpoint_and_labels_file(factories):
    """A 10-class checkpoint of the user's factory: the class count comes from the checkpoint,
    the names from --labels, the preprocessing from the model's pretrained_cfg."""
    import usernets

    torch.manual_seed(1)
    trained = usernets.net(num_classes=10).eval()
    torch.save(trained.state_dict(), factories / "ck10.pth")
    labels = [f"flower {i}" for i in range(10)]
    (factories / "labels.txt").write_text("\ufeff" + "\n".join(labels) + "\n\n", encoding="utf-8")
    for spec in ("usernets:net", "usernets:fixed"):
        code = export_main(["--format", "onnx", "--model", spec, "--weights", "ck10.pth",
                            "--labels", "labels.txt", "--input-size", "64", "--name", "flowers",
                            "--output-dir", f"out_{spec[-3:]}", "--overwrite"])
        assert code == 0
        doc = read_sidecar(factories / f"out_{spec[-3:]}" / "flowers_onnx_fp32_64x64.onnx")
        assert doc["labels"] == labels and doc["labels_source"] == "file"
        assert doc["num_classes"] == 10 and doc["weights"]["pretrained"] is True
        assert doc["preprocess"]["mean"] == [0.5, 0.5, 0.5]  # declared by the model
        assert doc["identity"]["model"] == spec
        assert doc["verification"]["status"] == "passed"


def test_registry_checkpoint_with_its_own_class_count(tiny_model, tmp_path):
    torch.manual_seed(0)
    ten = coordatt.create_model(tiny_model, num_classes=10)
    torch.save({"state_dict": ten.state_dict()}, tmp_path / "ck10.pth")
    (r,) = export(ExportConfig(model=tiny_model, input_size=(64, 64), weights=tmp_path / "ck10.pth",
                               output_dir=tmp_path / "out"), ["onnx"], progress=False)
    doc = read_sidecar(r.target.path)
    assert doc["num_classes"] == 10 and doc["labels"][3] == "class_3"
    assert doc["labels_source"] == "generic"
    # a 1000-class model keeps ImageNet's names
    (r,) = export(ExportConfig(model=tiny_model, input_size=(64, 64), output_dir=tmp_path / "in"),
                  ["onnx"], progress=False)
    doc = read_sidecar(r.target.path)
    assert len(doc["labels"]) == 1000 and doc["labels"][0].startswith("tench")
    # --num-classes that contradicts the checkpoint is the checkpoint's error
    with pytest.raises(coordatt.CheckpointError, match="10 classes"):
        export(ExportConfig(model=tiny_model, input_size=(64, 64), num_classes=5,
                            weights=tmp_path / "ck10.pth", output_dir=tmp_path / "x"),
               ["onnx"], progress=False)
    assert not (tmp_path / "x").exists()


def test_other_labels_are_another_identity(factories):
    (factories / "a.txt").write_text("a\nb\nc\nd\n")
    (factories / "b.txt").write_text("w\nx\ny\nz\n")
    args = ["--format", "onnx", "--model", "usernets:net", "--input-size", "64"]
    assert export_main([*args, "--labels", "a.txt"]) == 0
    assert export_main([*args, "--labels", "a.txt"]) == 0  # the same export may replace itself
    assert export_main([*args, "--labels", "b.txt"]) == 2  # other labels: not without asking
    doc = read_sidecar(factories / "artifacts" / "net_onnx_fp32_64x64.onnx")
    assert doc["labels"] == ["a", "b", "c", "d"]


@pytest.mark.parametrize(("args", "message"), [
    (["--model", "usernets:not_a_module"], "returned a int, not a torch.nn.Module"),
    (["--model", "usernets:raises"], "raised RuntimeError: no GPU here"),
    (["--model", "usernets:missing"], "'usernets' has no 'missing'"),
    (["--model", "nosuchmodule:net"], "cannot import 'nosuchmodule': ModuleNotFoundError"),
    (["--model", "usernets:net", "--width-mult", "0.5"], "takes no width_mult"),
    (["--model", "usernets:branchy"], "torch.export cannot capture the model"),
    (["--model", "usernets:net", "--labels", "three.txt"], "has 3 names but the classifier has 4"),
    (["--model", "usernets:net", "--labels", "dup.txt"], "duplicate class name 'a'"),
    (["--model", "usernets:net", "--labels", "latin1.txt"], "is not UTF-8"),
    (["--model", "usernets:net", "--labels", "."], "is not a regular file"),
    (["--model", "usernets:net", "--weights", "."], "is not a regular file"),
])
def test_bad_own_model_input(factories, capsys, args, message):
    (factories / "three.txt").write_text("a\nb\nc\n")
    (factories / "dup.txt").write_text("a\nb\na\nc\n")
    (factories / "latin1.txt").write_bytes("caf\xe9\nb\nc\nd\n".encode("latin-1"))
    before = sorted(p.name for p in factories.iterdir())
    code = export_main(["--format", "onnx", "--input-size", "64", "--output-dir", "out", *args])
    err = capsys.readouterr().err
    assert code == 2, err
    assert message in err and err.count("\n") == 1 and "Traceback" not in err, err
    assert sorted(p.name for p in factories.iterdir() if p.name != "__pycache__") == before


def test_capture_failure_names_the_line(factories):
    with pytest.raises(ExportError, match=r"usernets.py:\d+, in forward"):
        export(ExportConfig(model="usernets:branchy", input_size=(64, 64)), ["onnx"],
               progress=False)


def test_bench_measures_a_folder_of_own_artifacts(factories, capsys):
    """--artifacts alone: every artifact the folder holds, by its sidecar, with an eager row
    for the factory that can be built here and none for an in-memory export."""
    (factories / "labels.txt").write_text("a\nb\nc\nd\n")
    assert export_main(["--format", "pte,onnx", "--model", "usernets:net", "--input-size",
                        "64", "--labels", "labels.txt", "--output-dir", "arts"]) == 0
    export_model(SmallCA().eval(), input_size=(64, 64), formats=["onnx"], name="inmem",
                 output_dir=factories / "arts", progress=False)
    capsys.readouterr()
    code = bench_main(["--artifacts", "arts", "--iters", "2", "--warmup", "1", "--block-size",
                       "2", "--runtimes", "eager,onnxruntime,executorch-xnnpack",
                       "--output-dir", "bench"])
    assert code == 0
    doc = json.loads((factories / "bench" / "results.json").read_text())
    rows = {(r["model"], r["runtime"]): r for r in doc["results"]}
    assert set(rows) == {("net", "eager"), ("net", "onnxruntime"), ("net", "executorch-xnnpack"),
                         ("inmem", "eager"), ("inmem", "onnxruntime")}
    for key in [("net", "eager"), ("net", "onnxruntime"), ("net", "executorch-xnnpack"),
                ("inmem", "onnxruntime")]:
        assert rows[key]["error"] is None and len(rows[key]["samples_ms"]) == 2, rows[key]
        assert rows[key]["input_size"] == [64, 64] and rows[key]["width_mult"] is None
    assert rows["net", "onnxruntime"]["max_abs_diff"] is not None  # checked against eager
    assert "in-memory" in rows["inmem", "eager"]["error"]


def test_bench_artifacts_folder_without_sidecars(tmp_path, capsys):
    (tmp_path / "model.onnx").write_bytes(b"not ours")
    assert bench_main(["--artifacts", str(tmp_path), "--runtimes", "onnxruntime"]) == 2
    assert "no artifacts with a coordatt sidecar" in capsys.readouterr().err
