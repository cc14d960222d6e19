"""LiteRT's benchmark_model output (stdout and logcat) read by coordatt.bench.device_logs.

The outputs are written line for line as tflite/tools/benchmark (google-ai-edge/LiteRT) prints
them: ``INFO: `` on stdout, tag ``tflite`` in logcat, statistics in microseconds.
"""

import json
import time

import pytest

from coordatt.bench.device_logs import FORMATS, DeviceLogError, load_device_log, parse_device_log
from coordatt.bench.report import validate_results

FP32 = "/data/local/tmp/mobilenetv2_ca_100_litert_fp32.tflite"
INT8 = "/data/local/tmp/mobilenetv2_ca_100_litert_int8.tflite"


def run_output(
    graph=FP32,
    *,
    warm="count=53 first=12109 curr=9408 min=9321 max=12109 "
    "avg=9700.5 std=411 p5=9340 median=9512 p95=10988",
    timed="count=105 first=9455 curr=9398 min=9302 max=10211 avg=9531.2 std=163 "
    "p5=9318 median=9490 p95=9876",
    timings="Init: 25300, First inference: 12109, Warmup (avg): 9700.5, Inference (avg): 9531.2",
):
    """One `benchmark_model --graph=... --num_threads=1 --use_xnnpack=true
    --report_peak_memory_footprint=true` run as a recent build prints it to stdout."""
    return f"""\
INFO: STARTING!
INFO: Log parameter values verbosely: [0]
INFO: Num threads: [1]
INFO: Report the peak memory footprint: [1]
INFO: Graph: [{graph}]
INFO: Signature to run: []
INFO: #threads used for CPU inference: [1]
INFO: Use xnnpack: [1]
INFO: Loaded model {graph}
INFO: Initialized TensorFlow Lite runtime.
INFO: Created TensorFlow Lite XNNPACK delegate for CPU.
INFO: XNNPACK delegate created.
INFO: Explicitly applied XNNPACK delegate, and the model graph will be completely executed by the delegate.
INFO: The input model file size (MB): 14.0873
INFO: Initialized session in 25.3ms.
INFO: Running benchmark for at least 1 iterations and at least 0.5 seconds but terminate if exceeding 150 seconds.
INFO: {warm}

INFO: Running benchmark for at least 50 iterations and at least 1 seconds but terminate if exceeding 150 seconds.
INFO: {timed}

INFO: Inference timings in us: {timings}
INFO: Note: as the benchmark tool itself affects memory footprint, the following is only APPROXIMATE to the actual memory footprint of the model at runtime. Take the information at your discretion.
INFO: Memory footprint delta from the start of the tool (MB): init=3.2 overall=5.1
INFO: Overall peak memory footprint (MB) via periodic monitoring: 12.3
INFO: Memory status at the end of exeution:
INFO: - VmRSS              : 12 MB
INFO: + RssAnnon           : 8 MB
INFO: + RssFile + RssShmem : 4 MB
"""  # noqa: E501 (the tool's lines as printed)


def as_logcat(stdout: str, pid: int = 8123) -> str:
    """The same run as `adb logcat` (threadtime) shows it, with other apps' lines between."""
    lines = ["--------- beginning of main"]
    for i, line in enumerate(stdout.splitlines()):
        message = line.removeprefix("INFO: ")
        lines.append(f"11-27 10:15:{i % 60:02d}.{i:03d}  {pid}  {pid} I tflite  : {message}")
        if i == 3:
            lines.append("11-27 10:15:03.500  1402  1420 I ActivityManager: Start proc 9001")
            # another tag's "count=" must not be read as a run's statistics
            lines.append(
                "11-27 10:15:03.501  2211  2230 D Stats   : count=7 curr=5 min=1 max=9 avg=5 std=2"
            )
    return "\n".join(lines) + "\n"


def assert_fp32_row(row):
    assert row["source"] == "benchmark_model"
    assert row["artifact"] == "mobilenetv2_ca_100_litert_fp32.tflite"
    assert (row["model"], row["width_mult"]) == ("mobilenetv2_ca", 1.0)
    assert (row["runtime"], row["precision"]) == ("litert", "fp32")
    assert row["threads"] == 1
    assert row["load_ms"] == pytest.approx(25.3)
    assert row["warmup"] == 53 and row["iters"] == 105
    assert row["mean_ms"] == pytest.approx(9.5312)
    assert row["min_ms"] == pytest.approx(9.302)
    assert row["samples_ms"] == []
    for key in ("median_ms", "p90_ms", "trimmed_mean_ms", "std_ms"):
        assert row[key] is None, key
    assert row["reported_ms"] == pytest.approx(
        {
            "mean": 9.5312,
            "min": 9.302,
            "max": 10.211,
            "std": 0.163,
            "p5": 9.318,
            "median": 9.490,
            "p95": 9.876,
            "first_inference": 12.109,
            "warmup_mean": 9.7005,
        }
    )
    assert row["peak_rss_mb"] == pytest.approx(12.3)
    assert row["error"] is None
    assert "population std" in row["note"] and "--use_xnnpack=true" in row["note"]
    assert "grew 3.2 MB by the end of init, 5.1 MB overall" in row["note"]


def as_results(rows):
    return {"schema": "coordatt.bench/1", "machine": {}, "config": {}, "results": rows}


def test_stdout_full_run():
    (row,) = parse_device_log(run_output(), device="Pixel 8")
    assert_fp32_row(row)
    assert row["device"] == "Pixel 8"
    validate_results(as_results([row]))  # what coordatt-bench --from-device-log checks
    json.dumps(row)


def test_logcat_full_run():
    (row,) = parse_device_log(as_logcat(run_output()))
    assert_fp32_row(row)


def test_logcat_brief_format():
    text = "".join(
        f"I/tflite  ( 8123): {line.removeprefix('INFO: ')}\n" for line in run_output().splitlines()
    )
    (row,) = parse_device_log(text)
    assert_fp32_row(row)


def test_saved_file_detected_and_read(tmp_path):
    path = tmp_path / "bm.txt"
    path.write_text(run_output())
    (row,) = load_device_log(path)
    assert_fp32_row(row)
    assert "benchmark_model" in FORMATS
    (forced,) = parse_device_log(run_output(), fmt="benchmark_model")
    assert forced["mean_ms"] == row["mean_ms"]


def test_utf16_logcat_from_powershell(tmp_path):
    path = tmp_path / "logcat.txt"
    path.write_bytes(as_logcat(run_output()).encode("utf-16"))  # with a byte-order mark
    (row,) = load_device_log(path)
    assert_fp32_row(row)


def test_two_runs_in_one_log_give_two_rows():
    int8 = run_output(
        INT8,
        warm="count=88 first=7012 curr=5630 min=5577 max=7012 avg=5702.9 std=201",
        timed="count=180 first=5644 curr=5611 min=5560 max=6120 avg=5588.7 std=77",
        timings="Init: 31870, First inference: 7012, Warmup (avg): 5702.9, Inference (avg): 5588.7",
    )
    rows = parse_device_log(run_output() + int8)
    assert len(rows) == 2
    assert_fp32_row(rows[0])
    q = rows[1]
    assert q["artifact"] == "mobilenetv2_ca_100_litert_int8.tflite"
    assert (q["runtime"], q["precision"]) == ("litert-int8", "int8")
    assert q["mean_ms"] == pytest.approx(5.5887) and q["min_ms"] == pytest.approx(5.560)
    assert q["iters"] == 180 and q["warmup"] == 88 and q["threads"] == 1
    assert q["load_ms"] == pytest.approx(31.87)
    assert "p5" not in q["reported_ms"]  # an older build: no percentiles on the line
    validate_results(as_results(rows))


def test_int8_graph_name_in_logcat_with_size_suffix():
    graph = "/sdcard/mobilenetv2_ca_075_xnnpack_int8_160x160.tflite"
    (row,) = parse_device_log(as_logcat(run_output(graph)))
    assert (row["model"], row["width_mult"]) == ("mobilenetv2_ca", 0.75)
    assert (row["runtime"], row["precision"]) == ("litert-int8", "int8")  # a .tflite is LiteRT's
    assert row["input_size"] == [160, 160]


def test_graph_name_outside_the_convention():
    (row,) = parse_device_log(run_output("/data/local/tmp/mobilenet_v1_1.0_224_quant.tflite"))
    assert row["model"] == "mobilenet_v1_1.0_224_quant"
    assert (row["runtime"], row["precision"], row["width_mult"]) == ("litert", None, None)
    (hinted,) = parse_device_log(run_output("m.tflite"), model="mobilenetv2_ca", threads=4)
    assert hinted["model"] == "mobilenetv2_ca" and hinted["threads"] == 1  # the log says 1


def test_tf_2_1_output_without_levels_and_all_same_warmup():
    text = """\
STARTING!
Min num runs: [50]
Num threads: [4]
Graph: [/data/local/tmp/mobilenetv2_ca_100_litert_fp32.tflite]
Loaded model /data/local/tmp/mobilenetv2_ca_100_litert_fp32.tflite
resolved reporter
Initialized session in 21.039ms.
Running benchmark for at least 1 iterations and at least 0.5 seconds but terminate if exceeding 150 seconds.
count=1 curr=751932

Running benchmark for at least 50 iterations and at least 1 seconds but terminate if exceeding 150 seconds.
count=50 first=747738 curr=747428 min=747331 max=748577 avg=747733 std=293

Average inference timings in us: Warmup: 751932, Init: 21039, no stats: 747733
"""  # noqa: E501
    (row,) = parse_device_log(text)
    assert row["mean_ms"] == pytest.approx(747.733)
    assert row["warmup"] == 1 and row["iters"] == 50 and row["threads"] == 4
    assert row["load_ms"] == pytest.approx(21.039)
    assert row["reported_ms"]["warmup_mean"] == pytest.approx(751.932)


def test_large_means_in_exponent_notation_and_op_profile_tables():
    text = run_output(
        timed="count=50 first=2990275 curr=2913402 min=2727568 max=3189954 avg=2.95034e+06 "
        "std=109798",
        timings="Init: 17187, First inference: 3512391, Warmup (avg): 3.51239e+06, "
        "Inference (avg): 2.95034e+06",
    ) + (
        "INFO: Operator-wise Profiling Info for Regular Benchmark Runs:\n"
        "============================== Summary by node type ==============================\n"
        "\t             [Node type]\t  [count]\t  [avg ms]\t    [avg %]\n"
        "\t                 CONV_2D\t       15\t     1.406\t    89.270%\n"
        "Timings (microseconds): count=50 first=79449 curr=81350 min=77385 max=88213 "
        "avg=79732 std=1929\n"
        "Memory (bytes): count=0\n31 nodes observed\n"
    )
    (row,) = parse_device_log(text)
    assert row["mean_ms"] == pytest.approx(2950.34)
    assert row["min_ms"] == pytest.approx(2727.568) and row["iters"] == 50
    assert row["load_ms"] == pytest.approx(17.187)


def test_default_threads_are_left_null():
    text = (
        run_output()
        .replace("[1]\nINFO: Report", "[-1]\nINFO: Report")
        .replace("#threads used for CPU inference: [1]", "#threads used for CPU inference: [-1]")
    )
    (row,) = parse_device_log(text)
    assert row["threads"] is None and "threads -1" in row["note"]


def test_missing_inference_line_is_an_error():
    text = run_output().split("INFO: Inference timings")[0]
    with pytest.raises(DeviceLogError, match="no complete 'Inference timings in us") as info:
        parse_device_log(text)
    message = str(info.value)
    assert "mobilenetv2_ca_100_litert_fp32.tflite" in message
    assert "cut short after the timed statistics" in message and "\n" not in message


def test_line_cut_before_the_mean_is_an_error():
    text = run_output().split("Inference (avg)")[0]
    with pytest.raises(DeviceLogError, match="no complete"):
        parse_device_log(text)


def test_failed_run_names_the_tools_error():
    text = run_output().split("INFO: Loaded model")[0] + (
        "ERROR: Failed to load model /data/local/tmp/mobilenetv2_ca_100_litert_fp32.tflite\n"
        "ERROR: Benchmarking failed.\n"
    )
    with pytest.raises(DeviceLogError, match="Failed to load model"):
        parse_device_log(text)


def test_failed_run_after_a_good_one_is_an_error_row():
    failed = run_output(INT8).split("INFO: Running benchmark")[0] + (
        "ERROR: Failed to allocate tensors!\nERROR: Benchmarking failed.\n"
    )
    good, bad = parse_device_log(run_output() + failed)
    assert_fp32_row(good)
    assert bad["runtime"] == "litert-int8" and bad["mean_ms"] is None
    assert "stopped before" in bad["error"] and "Failed to allocate tensors!" in bad["error"]
    validate_results(as_results([good, bad]))


def test_inference_failure_in_timed_runs_is_an_error_row():
    text = (
        run_output() + "ERROR: Node number 12 (CONV_2D) failed to invoke.\n"
        "ERROR: Benchmarking failed.\n"
    )
    (row,) = parse_device_log(text)
    assert "failed to invoke" in row["error"] and row["mean_ms"] is None


def test_dry_run_gives_an_error_row():
    text = run_output(
        warm="count=0 p5=0 median=0 p95=0",
        timed="count=0 p5=0 median=0 p95=0",
        timings="Init: 25300, First inference: 0, Warmup (avg): 0, Inference (avg): 0",
    )
    (row,) = parse_device_log(text)
    assert "no timed runs" in row["error"] and row["iters"] == 0


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   \n\n",
        "INFO: STARTING!\nINFO: Graph: [m.tflite]\n",  # stopped before it ran
        "Inference timings in us:",
        "Running benchmark for at least 1 iterations\ncount=",
        "tflite tflite count=1 Inference (avg): 5",
        "\x00\x01\x02ELF\x7f" * 50,
        "[1, 2, 3]",
    ],
)
def test_garbage_is_a_one_line_error(text):
    with pytest.raises(DeviceLogError) as info:
        parse_device_log(text)
    assert "\n" not in str(info.value)


def test_binary_file_is_a_one_line_error(tmp_path):
    path = tmp_path / "model.tflite"
    path.write_bytes(bytes(range(256)) * 64)
    with pytest.raises(DeviceLogError, match="binary") as info:
        load_device_log(path)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    "line",
    [
        "11-27 10:15:02.123 " + "1 " * 200_000 + "count=" * 50_000,
        "I tflite" + " " * 200_000 + "x",
        "Inference timings in us: " + "Init " * 200_000,
        "Graph: [" * 100_000,
        "[" * 100_000,
    ],
)
def test_pathological_lines_end_quickly(line):
    start = time.monotonic()
    with pytest.raises(DeviceLogError):
        parse_device_log(line + "\nRunning benchmark for at least 1 iterations\n")
    assert time.monotonic() - start < 10  # quadratic regexes take minutes here
