"""coordatt-bench on the host: a quick run over every runtime, the results schema, statistics
from the raw samples, the corrupt-artifact and mismatched-sidecar paths, --from, Ctrl-C."""

import json
import shutil

import numpy as np
import pytest

from coordatt.bench import report
from coordatt.bench.cli import main
from coordatt.bench.harness import BenchConfig, run_benchmark
from coordatt.export.sidecar import sidecar_path
from coordatt.runtime import NAMES as RUNTIMES
from coordatt.runtime import unavailable_reason

ALL = tuple(RUNTIMES)  # portable too: the tiny network keeps it fast


@pytest.fixture(scope="module")
def tiny(tiny_artifacts, tmp_path_factory):
    """The 3-block CA network registered as 'tiny_ca' for this module, and a copy of the run's
    shared export of it (tests/artifact_cache.py): every artifact the bench would export for
    --models tiny_ca --input-size 64, so the runs here measure instead of exporting."""
    from artifact_cache import copy_artifacts, tiny_registered

    with tiny_registered():
        yield copy_artifacts(tiny_artifacts, tmp_path_factory.mktemp("bench_artifacts"))


def _config(artifacts, **kw):
    base = dict(models=("tiny_ca",), runtimes=ALL, threads=(1,), warmup=1, iters=6,
                block_size=2, input_size=(64, 64), artifacts_dir=artifacts)
    return BenchConfig(**{**base, **kw})


@pytest.fixture(scope="module")
def quick_run(tiny):
    blocks = []
    rows, _ = run_benchmark(_config(tiny), progress=lambda label, done, total:
                            blocks.append(label))
    return rows, blocks


def test_every_runtime_measured(quick_run):
    rows, _ = quick_run
    assert [r["runtime"] for r in rows] == list(ALL)
    for r in rows:
        if unavailable_reason(r["runtime"]):
            # Core ML off macOS; ORT's XNNPACK provider, absent from the PyPI wheel
            assert r["error"].startswith(("skipped: Core ML runs on macOS",
                                          "skipped: this ONNX Runtime has no Xnnpack"))
            assert r["samples_ms"] == [] and r["median_ms"] is None
            continue
        assert r["error"] is None, r
        assert len(r["samples_ms"]) == r["iters"] == 6
        assert all(s > 0 for s in r["samples_ms"])
        assert r["load_ms"] > 0 and r["peak_rss_mb"] > 50
        assert r["device"] == "host" and r["threads"] == 1 and r["input_size"] == [64, 64]
        assert r["max_abs_diff"] is not None  # checked against eager before timing
    by = {r["runtime"]: r for r in rows}
    assert by["executorch-xnnpack-int8"]["precision"] == "int8"
    assert by["executorch-xnnpack"]["artifact"] == "tiny_ca_100_xnnpack_fp32_64x64.pte"
    assert by["executorch-portable"]["median_ms"] > by["executorch-xnnpack"]["median_ms"]


def test_runtimes_are_interleaved(quick_run):
    _, labels = quick_run
    measuring = [lab for lab in labels if lab.startswith("measuring")]
    available = [r for r in ALL if not unavailable_reason(r)]
    assert len(measuring) == 3 * len(available)  # 3 blocks of 2 runs x each runtime, round-robin


def test_statistics_recomputed_from_samples(quick_run):
    rows, _ = quick_run
    for r in rows:
        s = np.sort(np.asarray(r["samples_ms"]))
        if not len(s):
            continue
        k = int(0.1 * len(s))
        assert r["min_ms"] == pytest.approx(s[0])
        assert r["median_ms"] == pytest.approx(np.median(s))
        assert r["p90_ms"] == pytest.approx(np.percentile(s, 90))
        assert r["mean_ms"] == pytest.approx(s.mean())
        assert r["std_ms"] == pytest.approx(s.std(ddof=1))
        assert r["trimmed_mean_ms"] == pytest.approx(s[k:len(s) - k].mean())


def test_cli_writes_results_and_rerenders(tiny, tmp_path, capsys):
    out = tmp_path / "out"
    code = main(["--models", "tiny_ca", "--runtimes", "eager,onnxruntime,executorch-xnnpack",
                 "--iters", "3", "--warmup", "1", "--block-size", "3", "--input-size", "64",
                 "--artifacts", str(tiny), "--output-dir", str(out), "--profile"])
    text = capsys.readouterr().out
    assert code == 0
    doc = report.load_results(out / "results.json")  # validates the schema
    assert doc["schema"] == "coordatt.bench/1"
    assert {"cpu", "cores", "isa", "os", "versions"} <= set(doc["machine"])
    assert {"onnxruntime", "executorch", "torch"} <= set(doc["machine"]["versions"])
    assert [r["runtime"] for r in doc["results"]] == ["eager", "onnxruntime",
                                                       "executorch-xnnpack"]
    assert (out / "results.csv").read_text().count("\n") == 4
    assert (out / "results.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "executorch-xnnpack" in text
    # --profile: a per-operator table for each runtime
    assert "tiny_ca / executorch-xnnpack / 1 thread(s)" in text and "Convolution" in text
    assert "tiny_ca / onnxruntime / 1 thread(s)" in text and "Conv" in text
    profiled = json.loads((out / "profile.json").read_text())  # and kept, row by row
    assert {p["runtime"] for p in profiled["profiles"]} >= {"onnxruntime", "executorch-xnnpack"}
    assert all(p["model"] == "tiny_ca" and p["operators"] for p in profiled["profiles"])
    # --from re-renders without measuring
    (out / "results.png").unlink()
    assert main(["--from", str(out / "results.json")]) == 0
    assert "executorch-xnnpack" in capsys.readouterr().out
    assert (out / "results.png").exists()


def test_corrupt_and_mismatched_artifacts(tiny, tmp_path):
    """Each bad artifact is an error on its own row; the other runtimes are still measured."""
    bad = tmp_path / "artifacts"
    shutil.copytree(tiny, bad)
    pte = bad / "tiny_ca_100_xnnpack_fp32_64x64.pte"
    pte.write_bytes(pte.read_bytes()[: pte.stat().st_size // 2])  # truncated
    onnx = bad / "tiny_ca_100_onnx_fp32_64x64.onnx"
    doc = json.loads(sidecar_path(onnx).read_text())
    doc["identity"]["width_mult"] = 0.5  # a sidecar that does not match the model
    sidecar_path(onnx).write_text(json.dumps(doc))
    portable = bad / "tiny_ca_100_portable_fp32_64x64.pte"
    portable.write_bytes(b"\x00" * 64)  # garbage whose sidecar hash is made to match
    from coordatt.export.sidecar import sha256_path

    doc = json.loads(sidecar_path(portable).read_text())
    doc["sha256"] = sha256_path(portable)[0]
    sidecar_path(portable).write_text(json.dumps(doc))

    rows, _ = run_benchmark(_config(bad, iters=2, block_size=2))
    by = {r["runtime"]: r for r in rows}
    assert "does not match its sidecar's sha256" in by["executorch-xnnpack"]["error"]
    assert "sidecar does not match the model: width_mult" in by["onnxruntime"]["error"]
    assert by["executorch-portable"]["error"]  # the runtime refuses the garbage program
    assert by["executorch-portable"]["samples_ms"] == []
    for ok in ("eager", "executorch-xnnpack-int8"):
        assert by[ok]["error"] is None and len(by[ok]["samples_ms"]) == 2
    assert pte.stat().st_size < 10_000_000  # nothing was re-exported over the user's files


def test_interrupt_keeps_what_was_measured(tiny):
    calls = []

    def progress(label, done, total):
        calls.append(label)
        if label.startswith("measuring") and len([c for c in calls if "measuring" in c]) > 3:
            raise KeyboardInterrupt

    rows, _ = run_benchmark(_config(tiny, runtimes=("eager", "onnxruntime"), iters=6,
                                    block_size=2), progress=progress)
    assert any(r["samples_ms"] for r in rows)
    assert all(r["error"].startswith("interrupted after") for r in rows)
    assert all(len(r["samples_ms"]) < 6 for r in rows)


def test_unknown_runtime(capsys):
    assert main(["--runtimes", "eager,tflite"]) == 2
    err = capsys.readouterr().err
    assert err == ("error: unknown runtime 'tflite'; choose from eager, executorch-xnnpack, "
                   "executorch-xnnpack-int8, executorch-portable, onnxruntime, onnxruntime-int8, "
                   "onnxruntime-xnnpack, onnxruntime-xnnpack-int8, litert, litert-int8, coreml\n")


@pytest.fixture
def fake_phone(tmp_path, monkeypatch):
    """tests/fake_adb/adb first on PATH: a stand-in phone in a temporary folder."""
    import os
    import sys
    from pathlib import Path

    fake = Path(__file__).parent / "fake_adb"
    path = os.pathsep.join([str(fake), str(Path(sys.executable).parent), os.environ["PATH"]])
    monkeypatch.setenv("PATH", path)
    monkeypatch.setenv("FAKE_ADB_ROOT", str(tmp_path / "phone"))
    (tmp_path / "phone").mkdir()
    monkeypatch.setenv("FAKE_ADB_MODE", "ok")
    monkeypatch.delenv("ANDROID_HOME", raising=False)
    return monkeypatch


def test_device_android_rows(tiny, tmp_path, fake_phone, capsys):
    out = tmp_path / "out"
    code = main(["--device", "android", "--models", "tiny_ca", "--runtimes",
                 "executorch-xnnpack,executorch-xnnpack-int8,onnxruntime", "--input-size", "64",
                 "--artifacts", str(tiny), "--output-dir", str(out), "--iters", "5"])
    assert code == 0, capsys.readouterr().err
    doc = report.load_results(out / "results.json")
    rows = doc["results"]
    assert {r["runtime"] for r in rows} == {"executorch-xnnpack", "executorch-xnnpack-int8",
                                            "onnxruntime"}
    assert all(r["device"] != "host" and r["source"] == "android-app" for r in rows)
    assert all(r["device_info"] and r["samples_ms"] for r in rows)
    assert rows[0]["device"] in capsys.readouterr().out  # the device's own section


@pytest.mark.parametrize(("mode", "message"), [("no-device", "connect"),
                                                ("unauthorized", "USB debugging")])
def test_device_android_errors(tiny, tmp_path, fake_phone, capsys, mode, message):
    fake_phone.setenv("FAKE_ADB_MODE", mode)
    code = main(["--device", "android", "--models", "tiny_ca", "--input-size", "64",
                 "--artifacts", str(tiny), "--output-dir", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("error: ") and message.lower() in err.lower()
    assert not (tmp_path / "results.json").exists()


def test_from_device_log(tmp_path, capsys):
    from pathlib import Path

    logs = Path(__file__).parent / "data" / "device_logs"
    ort_log = str(logs / "onnxruntime_perf_test_new.txt")
    assert main(["--from-device-log", ort_log]) == 2  # the log does not say which model
    assert "pass --models NAME" in capsys.readouterr().err
    code = main(["--from-device-log", ort_log, "--models", "mobilenetv2_ca",
                 "--from-device-log", str(logs / "executor_runner_per_iteration.txt"),
                 "--output-dir", str(tmp_path)])
    assert code == 0, capsys.readouterr().err
    doc = report.load_results(tmp_path / "results.json")
    assert {r["source"] for r in doc["results"]} == {"onnxruntime_perf_test", "executor_runner"}
    assert main(["--from-device-log", str(logs / "garbage.txt")]) == 2
    assert "no known benchmark output" in capsys.readouterr().err
