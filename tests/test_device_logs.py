"""Parsers of on-phone benchmark tools' output, on recorded outputs in tests/data/device_logs."""

import json
import re
from pathlib import Path

import pytest

from coordatt.bench.device_logs import (
    DeviceLogError,
    load_device_log,
    parse_artifact_name,
    parse_device_log,
)
from coordatt.bench.stats import STAT_FIELDS, summarize

DATA = Path(__file__).parent / "data" / "device_logs"
ROW_FIELDS = (
    "model",
    "width_mult",
    "input_size",
    "runtime",
    "precision",
    "threads",
    "device",
    "device_info",
    "artifact",
    "load_ms",
    "warmup",
    "iters",
    "samples_ms",
    *STAT_FIELDS,
    "peak_rss_mb",
    "max_abs_diff",
    "source",
    "error",
)


def read(name: str) -> str:
    return (DATA / name).read_text()


def assert_stats_from_samples(row: dict) -> None:
    assert row["samples_ms"], "expected per-run samples"
    expected = summarize(row["samples_ms"])
    for key in STAT_FIELDS:
        assert row[key] == pytest.approx(expected[key], rel=1e-12), key


@pytest.mark.parametrize("name", sorted(p.name for p in DATA.iterdir() if p.name != "garbage.txt"))
def test_every_recorded_output_gives_complete_rows(name):
    rows = load_device_log(DATA / name)
    assert rows
    for row in rows:
        missing = [f for f in ROW_FIELDS if f not in row]
        assert not missing, missing
        json.dumps(row)  # rows go straight into results.json


def test_executor_runner_per_iteration_samples():
    text = read("executor_runner_per_iteration.txt")
    expected = [float(x) for x in re.findall(r"Iteration \d+ of 20: ([\d.]+) ms", text)]
    (row,) = parse_device_log(text, device="Pixel 8")
    assert row["samples_ms"] == expected and len(expected) == 20
    assert_stats_from_samples(row)
    assert row["source"] == "executor_runner"
    assert row["artifact"] == "mobilenetv2_ca_100_xnnpack_fp32.pte"
    assert (row["model"], row["width_mult"], row["precision"]) == ("mobilenetv2_ca", 1.0, "fp32")
    assert row["runtime"] == "executorch-xnnpack"
    assert row["threads"] == 4
    assert row["iters"] == 20 and row["warmup"] == 0
    assert row["device"] == "Pixel 8"
    assert "note" not in row  # total and per-run lines agree


def test_executor_runner_total_only_gives_mean_and_note():
    (row,) = parse_device_log(read("executor_runner_total_only.txt"))
    assert row["samples_ms"] == []
    assert row["mean_ms"] == pytest.approx(412.345 / 50)
    assert row["iters"] == 50
    for key in ("min_ms", "median_ms", "p90_ms", "trimmed_mean_ms", "std_ms"):
        assert row[key] is None
    assert "only the total" in row["note"]
    assert row["runtime"] == "executorch-xnnpack-int8" and row["precision"] == "int8"


def test_executor_runner_logcat_with_two_runs_gives_two_rows():
    text = read("executor_runner_logcat_two_runs.txt")
    rows = parse_device_log(text, runtime="executorch-xnnpack", model="mobilenetv2_ca")
    assert len(rows) == 2
    all_samples = [float(x) for x in re.findall(r"Iteration \d+: ([\d.]+) ms", text)]
    assert rows[0]["samples_ms"] + rows[1]["samples_ms"] == all_samples
    for row in rows:
        assert len(row["samples_ms"]) == 10
        assert_stats_from_samples(row)
        assert row["runtime"] == "executorch-xnnpack" and row["model"] == "mobilenetv2_ca"
        assert row["threads"] == 2
    assert rows[0]["mean_ms"] > rows[1]["mean_ms"]  # fp32 run first, then int8


def test_executor_runner_without_runtime_says_so():
    rows = parse_device_log(read("executor_runner_logcat_two_runs.txt"))
    assert rows[0]["runtime"] == "executorch"
    assert "runtime=" in rows[0]["note"]


def test_executor_runner_count_mismatch_is_noted():
    text = "\n".join(f"Iteration {i} of 3: 5.0 ms" for i in (1, 2, 3))
    text += "\nModel executed successfully 4 time(s) in 20.0 ms."
    (row,) = parse_device_log(text, runtime="executorch-xnnpack")
    assert row["samples_ms"] == [5.0, 5.0, 5.0]
    assert "4 runs but 3" in row["note"]


def test_executor_runner_jni_execution_time_lines_without_total():
    text = "I ExecuTorch: Execution time: 7 ms.\nI ExecuTorch: Execution time: 9 ms.\n"
    (row,) = parse_device_log(text, runtime="executorch-xnnpack")
    assert row["samples_ms"] == [7.0, 9.0]
    assert_stats_from_samples(row)
    assert "no 'Model executed successfully'" in row["note"]


def test_executor_runner_zero_runs_is_an_error():
    with pytest.raises(DeviceLogError, match="0 times"):
        parse_device_log("Model executed successfully 0 time(s) in 0.000000 ms.")


def test_minibench_json_one_row_per_model():
    rows = parse_device_log(read("minibench_benchmark_results.json"))
    by_artifact = {row["artifact"]: row for row in rows}
    assert set(by_artifact) == {
        "mobilenetv2_ca_100_xnnpack_fp32.pte",
        "mobilenetv2_ca_100_xnnpack_int8.pte",
        "mobilenetv2_ca_100_vulkan_fp16.pte",
    }
    fp32 = by_artifact["mobilenetv2_ca_100_xnnpack_fp32.pte"]
    assert fp32["source"] == "minibench"
    assert fp32["runtime"] == "executorch-xnnpack"
    assert fp32["mean_ms"] == pytest.approx(8.734512)
    assert fp32["load_ms"] == pytest.approx(41.203958)
    assert fp32["reported_ms"] == {"trimmean": pytest.approx(8.612377)}
    assert fp32["samples_ms"] == [] and fp32["median_ms"] is None
    assert fp32["device"] == "SM-S921B"  # minibench's deviceInfo.arch is Build.MODEL
    assert fp32["device_info"]["android"] == "Android 14"
    assert fp32["error"] is None
    int8 = by_artifact["mobilenetv2_ca_100_xnnpack_int8.pte"]
    assert int8["runtime"] == "executorch-xnnpack-int8" and int8["precision"] == "int8"
    failed = by_artifact["mobilenetv2_ca_100_vulkan_fp16.pte"]
    assert "load_status 32" in failed["error"] and failed["mean_ms"] is None


def test_minibench_full_name_in_benchmark_model():
    record = {
        "benchmarkModel": {
            "name": "mobilenetv2_ca_100_xnnpack_fp32",
            "backend": "xnnpack",
            "quantization": "fp32",
        },
        "metric": "avg_inference_latency(ms)",
        "actualValue": 8.1,
        "targetValue": 0,
    }
    (row,) = parse_device_log(json.dumps([record]), device="Pixel 8")
    assert row["artifact"] == "mobilenetv2_ca_100_xnnpack_fp32.pte"
    assert row["device"] == "Pixel 8" and row["mean_ms"] == 8.1


def test_minibench_record_without_model_is_an_error():
    with pytest.raises(DeviceLogError, match="benchmarkModel"):
        parse_device_log(json.dumps([{"metric": "x", "actualValue": 1.0}]))


@pytest.mark.parametrize(
    ("name", "mean", "load_ms", "threads", "min_ms", "p90"),
    [
        ("onnxruntime_perf_test_new.txt", 11.825240, 82.1377, 4, 11.3207, 12.2881),
        ("onnxruntime_perf_test_old.txt", 12.0429, 74.5021, None, 11.4523, 12.5113),
        ("onnxruntime_perf_test_oldest.txt", 12.3468, None, None, None, None),
    ],
)
def test_onnxruntime_perf_test_wordings(name, mean, load_ms, threads, min_ms, p90):
    (row,) = parse_device_log(read(name), model="mobilenetv2_ca", device="Pixel 8")
    assert row["source"] == "onnxruntime_perf_test" and row["runtime"] == "onnxruntime"
    assert row["mean_ms"] == pytest.approx(mean)
    assert row["iters"] == 50
    assert row["load_ms"] == (pytest.approx(load_ms) if load_ms else None)
    assert row["threads"] == threads
    assert row["min_ms"] == (pytest.approx(min_ms) if min_ms else None)
    assert row["reported_ms"].get("p90") == (pytest.approx(p90) if p90 else None)
    assert row["median_ms"] is None and row["p90_ms"] is None  # nearest-rank, not ours
    assert row["model"] == "mobilenetv2_ca" and row["device"] == "Pixel 8"


def test_onnxruntime_perf_test_millisecond_latencies():
    text = (
        "Average inference time cost: 9.5 ms\nTotal inference requests: 10\n"
        "Min Latency: 8.25 ms\nP50 Latency: 9400 us\n"
    )
    (row,) = parse_device_log(text, artifact="mobilenetv2_ca_100_onnx_fp32.onnx")
    assert row["min_ms"] == 8.25
    assert row["reported_ms"]["p50"] == pytest.approx(9.4)
    assert row["artifact"] == "mobilenetv2_ca_100_onnx_fp32.onnx"
    assert row["model"] == "mobilenetv2_ca" and row["precision"] == "fp32"


def test_coordatt_json_rows_with_statistics_from_samples():
    rows = parse_device_log(read("coordatt_benchmark_results.json"))
    assert [row["runtime"] for row in rows] == ["executorch-xnnpack", "onnxruntime"]
    for row in rows:
        assert len(row["samples_ms"]) == 30
        assert_stats_from_samples(row)
        assert row["device"] == "Pixel 7a" and row["device_info"]["soc"] == "Tensor G2"
        assert row["source"] == "android-app"
        assert "note" not in row  # the file's statistics agree with ours


def test_coordatt_json_wrong_statistics_are_recomputed():
    doc = json.loads(read("coordatt_benchmark_results.json"))
    doc["results"][0]["p90_ms"] += 1.0
    row = parse_device_log(json.dumps(doc))[0]
    assert row["p90_ms"] == pytest.approx(summarize(row["samples_ms"])["p90_ms"])
    assert "recomputed p90_ms" in row["note"]


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d.update(schema="coordatt.bench/9"), "coordatt.bench/9"),
        (lambda d: d.pop("results"), "no 'results' list"),
        (lambda d: d["results"][0].pop("runtime"), "lacks runtime"),
        (lambda d: d["results"][0].update(samples_ms=["fast"]), "list of numbers"),
    ],
)
def test_coordatt_json_invalid(mutate, message):
    doc = json.loads(read("coordatt_benchmark_results.json"))
    mutate(doc)
    with pytest.raises(DeviceLogError, match=re.escape(message)):
        parse_device_log(json.dumps(doc))


@pytest.mark.parametrize("text", [read("garbage.txt"), "", '{"results": []}', "{not json"])
def test_unparseable_text_names_the_formats_tried(text):
    with pytest.raises(DeviceLogError) as info:
        parse_device_log(text)
    for fmt in ("coordatt", "minibench", "executor_runner", "onnxruntime_perf_test"):
        assert fmt in str(info.value)


def test_forced_format_that_does_not_match():
    with pytest.raises(DeviceLogError, match="tried onnxruntime_perf_test"):
        parse_device_log(read("executor_runner_total_only.txt"), fmt="onnxruntime_perf_test")
    with pytest.raises(ValueError, match="choose from"):
        parse_device_log("x", fmt="tflite")


def test_missing_log_file(tmp_path):
    with pytest.raises(DeviceLogError, match="device log not found"):
        load_device_log(tmp_path / "absent.txt")


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("mobilenetv2_ca_100_xnnpack_fp32.pte", ("mobilenetv2_ca", 1.0, "executorch-xnnpack")),
        (
            "mobilenetv2_ca_075_xnnpack_int8.pte",
            ("mobilenetv2_ca", 0.75, "executorch-xnnpack-int8"),
        ),
        ("/x/mobilenetv2_035_portable_fp32.pte", ("mobilenetv2", 0.35, "executorch-portable")),
        ("mobilenetv2_ca_130_onnx_fp32.onnx", ("mobilenetv2_ca", 1.3, "onnxruntime")),
        ("my_model.pte", ("my_model", None, None)),
    ],
)
def test_parse_artifact_name(name, expected):
    info = parse_artifact_name(name)
    assert (info["model"], info["width_mult"], info["runtime"]) == expected


def test_int8_artifact_names_map_to_their_int8_runtimes():
    from coordatt.bench.device_logs import parse_artifact_name

    assert parse_artifact_name("mobilenetv2_ca_100_onnx_int8.onnx")["runtime"] == \
        "onnxruntime-int8"
    assert parse_artifact_name("mobilenetv2_ca_100_onnx_fp32.onnx")["runtime"] == "onnxruntime"
    assert parse_artifact_name("mobilenetv2_ca_100_litert_int8.tflite")["runtime"] == \
        "litert-int8"
    assert parse_artifact_name("mobilenetv2_ca_100_xnnpack_int8.pte")["runtime"] == \
        "executorch-xnnpack-int8"
