"""``coordatt-eval --data`` and ``coordatt-bench --eval-dir`` on the trained test network
(tests/trained.py): fp32 artifacts classify exactly as eager PyTorch, int8 artifacts lose at
most ``MAX_INT8_DROP_PTS`` of top-1, and bad input is one line with exit 2, nothing written."""

import json
import os
import shutil
import stat

import pytest

from coordatt.bench.cli import main as bench_main
from coordatt.check_file import check_path, read_check_file
from coordatt.eval.cli import main
from coordatt.eval.dataset import ImageSet, match_labels, scan
from coordatt.eval.evaluate import EvalConfig, evaluate
from coordatt.export.sidecar import read_sidecar
from coordatt.labels import imagenet_labels, imagenet_synsets

# int8 top-1 on the 200 validation images against eager fp32 (92.5%), calibrated on 3 training
# images a class. Measured (x86, 2 cores): ExecuTorch int8 93.5% (+1.0 pts), agreement 95.0%,
# SQNR 23.6 dB; ONNX Runtime int8 92.0% (-0.5), 99.5%, 25.0 dB with float CA poolings, 96.0%,
# 24.3 dB with CA as depthwise convs (benchmarks/ca_cost_levers.md), 91.5%, 96.0%, 24.2 dB with
# its h-swish as t * relu6(t + 3) as well (the default since, benchmarks/ca_levers/onnxruntime.md);
# LiteRT int8 91.0% (-1.5), 95.5%, 23.1 dB; calibrated on 200 of the 400 training images: +0.0,
# -1.0, -2.0 pts. The bounds leave room for other CPUs' int8 kernels and calibration sets; a
# broken quantization costs tens of points.
MAX_INT8_DROP_PTS = 5.0
MIN_INT8_AGREEMENT = 0.9
# every format with an int8 path, fp32 and int8: the trained network's shared export
# (tests/trained.py, coordatt-export --format all, once per run; int8 calibrated on 3 training
# images a class). The Core ML artifact is there too: its rows say it needs macOS.
FORMATS = ("pte", "onnx", "tflite")
FP32_RUNTIMES = {"pte": "executorch-xnnpack", "onnx": "onnxruntime", "tflite": "litert"}
INT8_RUNTIMES = {"pte": "executorch-xnnpack-int8", "onnx": "onnxruntime-int8",
                 "tflite": "litert-int8"}


@pytest.fixture(scope="module")
def exported(trained_artifacts):
    """The trained network's fp32 and int8 artifacts with its labels, as a user exports them."""
    return trained_artifacts


@pytest.fixture(scope="module")
def doc(trained_net, exported):
    # the data folder has train/ and val/: evaluated on val/, as a user's training folder is
    return evaluate(EvalConfig(data=trained_net.data_dir, artifacts_dir=exported),
                    progress=False)


def _rows(doc):
    return {r["runtime"]: r for r in doc["results"]}


def test_eager_is_the_training_runs_validation_accuracy(trained_net, doc):
    assert doc["schema"] == "coordatt.eval/1"
    assert doc["data"]["images"] == 200 and doc["data"]["classes"] == 10
    assert doc["data"]["path"] == str(trained_net.val_dir)
    eager = _rows(doc)["eager"]
    assert eager["error"] is None and eager["images"] == 200
    # the same images, the same preprocessing as coordatt-train's validation
    assert eager["top1"] == pytest.approx(trained_net.val_acc)
    assert eager["top5"] >= eager["top1"]


def test_fp32_artifacts_classify_exactly_as_eager(doc):
    rows = _rows(doc)
    for fmt in FORMATS:
        row = rows[FP32_RUNTIMES[fmt]]
        assert row["error"] is None, row
        assert row["top1"] == rows["eager"]["top1"] and row["top5"] == rows["eager"]["top5"]
        assert row["top1_agreement"] == 1.0 and row["cosine_min"] > 0.9999, row
        assert row["check"] == "passed" and row["top1_drop_pts"] is None


def test_int8_drop_is_measured_and_bounded(doc, capsys):
    rows = _rows(doc)
    for fmt in FORMATS:
        row = rows[INT8_RUNTIMES[fmt]]
        assert row["error"] is None and row["check"] == "passed", row
        assert row["drop_vs"] == "eager"
        assert row["top1_drop_pts"] == pytest.approx(
            (rows["eager"]["top1"] - row["top1"]) * 100, abs=1e-6)
        with capsys.disabled():  # the measured numbers, for the record
            print(f"\n{row['runtime']}: top-1 {row['top1']:.3f} (eager "
                  f"{rows['eager']['top1']:.3f}, drop {row['top1_drop_pts']:+.1f} pts), "
                  f"agreement {row['top1_agreement']:.3f}, SQNR {row['sqnr_db']:.1f} dB")
        assert row["top1_drop_pts"] <= MAX_INT8_DROP_PTS, row
        assert row["top1_agreement"] >= MIN_INT8_AGREEMENT, row


def test_int8_check_files_hold_the_calibration_domain(exported):
    for fmt in FORMATS:
        artifact = next(exported.glob(f"*_int8_48x48.{fmt}"))
        data = read_check_file(check_path(artifact))
        entry = read_sidecar(artifact)["check"]
        # verified on 8 images spread over the calibration folder; trained weights, so top-1
        # agreement is judged
        assert len(data.inputs) == entry["inputs"] == 8 and entry["rule"] == "int8"
        assert data.min_top1_agreement == entry["min_top1_agreement"] == 0.5
        assert entry["metrics"]["top1_agreement"] >= 0.5


def test_cli_writes_table_json_and_csv(trained_net, exported, tmp_path, capsys):
    out = tmp_path / "out"
    code = main(["--data", str(trained_net.val_dir), "--artifacts", str(exported),
                 "--runtimes", "eager,onnxruntime,onnxruntime-int8", "--limit", "30",
                 "--output-dir", str(out)])
    stdout, err = capsys.readouterr()
    assert code == 0, err
    assert "onnxruntime-int8" in stdout and "pts" in stdout and "30 images" in stdout
    saved = json.loads((out / "eval.json").read_text())
    assert saved["data"]["images"] == 30 and saved["data"]["limit"] == 30
    assert {r["runtime"] for r in saved["results"]} == {"eager", "onnxruntime",
                                                         "onnxruntime-int8"}
    lines = (out / "eval.csv").read_text().splitlines()
    assert lines[0].startswith("model,width_mult,input_size,runtime") and len(lines) == 4
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE((out / "eval.json").stat().st_mode) == 0o666 & ~umask
    # the sample is seeded: the same 30 images again
    again = evaluate(EvalConfig(data=trained_net.val_dir, artifacts_dir=exported,
                                runtimes=("eager",), limit=30), progress=False)
    assert _rows(again)["eager"]["top1"] == _rows(saved)["eager"]["top1"]


def test_labels_csv_and_undecodable_images(trained_net, exported, tmp_path):
    flat = tmp_path / "flat"
    flat.mkdir()
    rows = ["file,class"]
    for i, image in enumerate(trained_net.val_images(per_class=2)):
        shutil.copy(image, flat / f"{i}.png")
        rows.append(f"{i}.png,{image.parent.name}")
    (flat / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n not an image")
    rows.append("broken.png,circle" if "circle" in trained_net.labels else
                f"broken.png,{trained_net.labels[0]}")
    (flat / "labels.csv").write_text("\n".join(rows) + "\n")
    doc = evaluate(EvalConfig(data=flat, artifacts_dir=exported,
                              runtimes=("eager", "onnxruntime")), progress=False)
    assert doc["data"]["layout"] == "labels csv" and doc["data"]["skipped_images"] == 1
    eager, onnx = _rows(doc)["eager"], _rows(doc)["onnxruntime"]
    assert eager["images"] == onnx["images"] == 20 and onnx["top1"] == eager["top1"]


def test_imagenet_synset_folders_map_through_the_imagenet_list(tmp_path):
    wnids = imagenet_synsets()
    assert len(wnids) == 1000 and wnids[0] == "n01440764" and wnids == sorted(wnids)
    images = ImageSet(tmp_path, "class folders",
                      [(tmp_path / "n01440764" / "a.jpg", "n01440764"),
                       (tmp_path / "n15075141" / "b.jpg", "n15075141"),
                       (tmp_path / "tench, Tinca tinca" / "c.jpg", "tench, Tinca tinca")],
                      ["n01440764", "n15075141", "tench, Tinca tinca"])
    samples, unmatched = match_labels(images, imagenet_labels())
    assert [i for _, i in samples] == [0, 999, 0] and unmatched == []


# --- bad input: one line, exit 2, no traceback, nothing written ---------------------------


def _tree(folder):
    return sorted((str(p.relative_to(folder)), p.stat().st_mtime_ns) for p in folder.rglob("*"))


def _bad(capsys, tmp_path, *args):
    before = _tree(tmp_path)
    code = main([*map(str, args), "--output-dir", str(tmp_path / "out")])
    out, err = capsys.readouterr()
    assert code == 2, (out, err)
    assert err.count("\n") == 1 and err.startswith("error: ") and "Traceback" not in err, err
    assert _tree(tmp_path) == before  # nothing written, nothing changed
    return err


def test_classes_matching_no_label(trained_net, exported, tmp_path, capsys):
    data = tmp_path / "fruit"
    for name in ("apple", "banana", "cherry"):
        (data / name).mkdir(parents=True)
        shutil.copy(trained_net.val_images()[0], data / name)
    err = _bad(capsys, tmp_path, "--data", data, "--artifacts", exported)
    assert "'apple', 'banana', 'cherry'" in err and "match none of the model's labels" in err


@pytest.mark.parametrize("case", ["missing", "file", "empty", "limit", "runtime", "csv"])
def test_bad_input(case, exported, trained_net, tmp_path, capsys):
    args = ["--data", trained_net.val_dir, "--artifacts", exported]
    if case == "missing":
        args[1] = tmp_path / "nowhere"
        expect = "--data folder not found"
    elif case == "file":
        (tmp_path / "f.txt").write_text("x")
        args[1] = tmp_path / "f.txt"
        expect = "is not a folder"
    elif case == "empty":
        (tmp_path / "empty" / "cls").mkdir(parents=True)
        args[1] = tmp_path / "empty"
        expect = "no class subfolders with .jpg/.jpeg/.png images"
    elif case == "limit":
        args += ["--limit", "0"]
        expect = "--limit must be a positive number"
    elif case == "runtime":
        args += ["--runtimes", "eager,tensorrt"]
        expect = "unknown runtime 'tensorrt'"
    else:
        (tmp_path / "flat").mkdir()
        (tmp_path / "flat" / "labels.csv").write_text("file,class\nonly-one-column\n")
        args[1] = tmp_path / "flat"
        expect = "line 2: expected file,class"
    assert expect in _bad(capsys, tmp_path, *args)


# --- coordatt-bench --eval-dir -------------------------------------------------------------


def test_bench_shows_accuracy_beside_latency(trained_net, exported, tmp_path, capsys):
    code = bench_main(["--artifacts", str(exported), "--runtimes",
                       "eager,onnxruntime,onnxruntime-int8", "--iters", "2", "--warmup", "0",
                       "--block-size", "2", "--eval-dir", str(trained_net.val_dir),
                       "--eval-limit", "40", "--output-dir", str(tmp_path)])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "top-1" in out and "agree" in out and "40 labelled images" in out
    rows = {r["runtime"]: r for r in json.loads((tmp_path / "results.json").read_text())
            ["results"]}
    assert rows["onnxruntime"]["top1"] == rows["eager"]["top1"]
    assert rows["onnxruntime"]["top1_agreement"] == 1.0
    assert rows["eager"]["top1_agreement"] is None and rows["eager"]["eval_images"] == 40
    assert rows["onnxruntime-int8"]["top1_agreement"] >= MIN_INT8_AGREEMENT
    header = (tmp_path / "results.csv").read_text().splitlines()[0]
    assert "top1,top5,top1_agreement,eval_images" in header


@pytest.mark.parametrize("case", ["android", "mismatch"])
def test_bench_eval_dir_bad_input(case, trained_net, exported, tmp_path, capsys):
    args = ["--artifacts", str(exported), "--runtimes", "eager", "--output-dir",
            str(tmp_path / "out")]
    if case == "android":
        # a phone evaluates its own sample (--device-eval-limit), never the host's
        args += ["--eval-dir", str(tmp_path), "--device", "android", "--eval-limit", "5"]
        expect = "on a phone use --device-eval-limit"
    else:
        (tmp_path / "data" / "dogs").mkdir(parents=True)
        shutil.copy(trained_net.val_images()[0], tmp_path / "data" / "dogs")
        args += ["--eval-dir", str(tmp_path / "data")]
        expect = "--eval-dir: the classes of"
    code = bench_main(args)
    out, err = capsys.readouterr()
    assert code == 2 and err.count("\n") == 1 and expect in err, (out, err)
    assert not (tmp_path / "out").exists()  # failed before anything was measured


def test_scan_sample_is_seeded(trained_net):
    full = scan(trained_net.val_dir)
    a, b = full.sample(25, seed=3), full.sample(25, seed=3)
    assert a.samples == b.samples and len(a.samples) == 25
    assert full.sample(25, seed=4).samples != a.samples
