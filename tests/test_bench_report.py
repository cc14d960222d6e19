"""Benchmark statistics and reporting: summarize, results.json validation and I/O, CSV, table,
chart (coordatt.bench.stats, coordatt.bench.report; definitions in docs/formats.md)."""

from __future__ import annotations

import copy
import csv
import json
import random
import statistics
import struct

import numpy as np
import pytest

from coordatt.bench import report
from coordatt.bench.report import (
    SCHEMA,
    load_results,
    machine_info,
    make_results,
    render_chart,
    render_table,
    validate_results,
    write_results,
)
from coordatt.bench.stats import STAT_FIELDS, ratio, summarize

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def make_row(model="mobilenetv2_ca", runtime="eager", median=10.0, threads=1, device="host",
             precision="fp32", error=None, n=20, seed=0):  # fmt: skip
    """A valid row whose samples are centred on `median` (statistics computed by summarize)."""
    rng = random.Random(seed)
    samples = [] if error else [median * (1 + rng.uniform(-0.02, 0.02)) for _ in range(n)]
    stats = summarize(samples) if samples else dict.fromkeys(STAT_FIELDS)
    return {
        "model": model, "width_mult": 1.0, "input_size": [224, 224], "runtime": runtime,
        "precision": precision, "threads": threads, "device": device,
        "device_info": None if device == "host" else {"soc": "Tensor G3", "abi": "arm64-v8a",
                                                      "android": "14", "runtimes": {}},
        "artifact": None, "load_ms": None if error else 12.5, "warmup": 5, "iters": n,
        "samples_ms": samples, **stats, "peak_rss_mb": 200.0, "max_abs_diff": 1e-5,
        "source": "coordatt-bench", "error": error,
    }  # fmt: skip


MACHINE = {"cpu": "Test CPU 9000", "cores": 4, "isa": ["avx2"], "os": "Linux", "python": "3.11",
           "versions": {}}  # fmt: skip
CONFIG = {"warmup": 5, "iters": 20, "block_size": 10}


@pytest.fixture
def doc():
    rows = [
        make_row("mobilenetv2", "eager", 20.0, seed=1),
        make_row("mobilenetv2", "executorch-xnnpack", 5.0, seed=2),
        make_row("mobilenetv2_ca", "eager", 24.0, seed=3),
        make_row("mobilenetv2_ca", "executorch-xnnpack", 6.0, seed=4),
        make_row("mobilenetv2_ca", "executorch-portable", 600.0, seed=5),
        make_row("mobilenetv2_ca", "coreml", error="RuntimeError: Core ML runs on macOS only"),
        make_row("mobilenetv2", "executorch-xnnpack", 4.0, threads=4, device="Pixel 8", seed=6),
        make_row("mobilenetv2_ca", "executorch-xnnpack", 5.0, threads=4, device="Pixel 8", seed=7),
    ]
    return make_results(MACHINE, CONFIG, rows)


# --- statistics -----------------------------------------------------------------------------


@pytest.mark.parametrize("n", [1, 2, 3, 9, 10, 11, 20, 37, 100])
def test_summarize_matches_independent_computation(n):
    rng = np.random.default_rng(n)
    samples = list(rng.lognormal(mean=2.0, sigma=0.3, size=n))
    got = summarize(samples)
    s = np.sort(samples)
    k = int(np.floor(0.1 * n))
    assert set(got) == set(STAT_FIELDS)
    assert got["min_ms"] == s[0]
    assert got["median_ms"] == pytest.approx(statistics.median(samples), rel=1e-12)
    assert got["p90_ms"] == pytest.approx(np.percentile(samples, 90), rel=1e-12)
    assert got["mean_ms"] == pytest.approx(np.mean(samples), rel=1e-12)
    assert got["trimmed_mean_ms"] == pytest.approx(np.mean(s[k : n - k]), rel=1e-12)
    expected_std = np.std(samples, ddof=1) if n > 1 else 0.0
    assert got["std_ms"] == pytest.approx(expected_std, rel=1e-9, abs=1e-12)


def test_summarize_known_values():
    # Even n: median is the mean of the middle two; p90 interpolates between 9th and 10th.
    got = summarize([10, 1, 9, 2, 8, 3, 7, 4, 6, 5])
    assert got["min_ms"] == 1
    assert got["median_ms"] == 5.5
    assert got["p90_ms"] == pytest.approx(9.1)
    assert got["trimmed_mean_ms"] == pytest.approx(5.5)  # drops 1 and 10
    assert summarize([3.0])["std_ms"] == 0.0
    # One outlier in 10 samples is trimmed away from the trimmed mean but not from the mean.
    outlier = summarize([1.0] * 9 + [100.0])
    assert outlier["mean_ms"] == pytest.approx(10.9)
    assert outlier["trimmed_mean_ms"] == pytest.approx(1.0)


def test_summarize_leaves_input_unsorted():
    samples = [3.0, 1.0, 2.0]
    summarize(samples)
    assert samples == [3.0, 1.0, 2.0]


@pytest.mark.parametrize(
    ("samples", "message"),
    [([], "no samples"), ([1.0, float("nan")], "finite"), ([1.0, float("inf")], "finite"),
     ([1.0, "2"], "number"), ([True], "number")],
)  # fmt: skip
def test_summarize_rejects_bad_samples(samples, message):
    with pytest.raises(ValueError, match=message):
        summarize(samples)


def test_ratio():
    assert ratio(30.0, 7.5) == 4.0
    with pytest.raises(ValueError, match="positive"):
        ratio(1.0, 0.0)


# --- validation and files -------------------------------------------------------------------


def test_make_results_builds_schema_document(doc):
    assert doc["schema"] == SCHEMA == "coordatt.bench/1"
    assert doc["machine"]["cpu"] == "Test CPU 9000" and doc["config"] == CONFIG
    assert len(doc["results"]) == 8


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d.update(schema="coordatt.bench/2"), "unknown results schema 'coordatt.b"),
        (lambda d: d.pop("machine"), "missing 'machine'"),
        (lambda d: d.update(results={}), "'results' is a dict; expected list"),
        (lambda d: d["results"][2].pop("p90_ms"),
         r"results\[2\] \(mobilenetv2_ca / eager\): missing field\(s\) p90_ms"),
        (lambda d: d["results"][0].update(threads="1"), r"'threads' is '1'; expected int or null"),
        (lambda d: d["results"][0].update(threads=True), "'threads' is True"),
        (lambda d: d["results"][0].update(median_ms=float("nan")), "finite"),
        (lambda d: d["results"][0].update(input_size=[224]), r"\[height, width\]"),
        (lambda d: d["results"][0].update(samples_ms=[1.0, None]), "samples_ms holds None"),
        (lambda d: d["results"][0].update(median_ms=None, mean_ms=None), "neither median_ms"),
        (lambda d: d["results"].append([]), r"results\[8\] is a list"),
    ],
)  # fmt: skip
def test_validate_names_the_problem(doc, mutate, message):
    bad = copy.deepcopy(doc)
    mutate(bad)
    with pytest.raises(ValueError, match=message):
        validate_results(bad)


def test_validate_accepts_rows_from_tools_without_samples(doc):
    # e.g. onnxruntime_perf_test on a phone: only a mean, unknown threads, extra note field.
    row = make_row("mobilenetv2_ca", "onnxruntime", device="Pixel 8")
    row.update(dict.fromkeys(STAT_FIELDS), samples_ms=[], threads=None, input_size=None,
               note="no per-run samples")  # fmt: skip
    row["mean_ms"] = 7.5
    doc["results"].append(row)
    validate_results(doc)
    assert "(mean 7.50, no per-run samples)" in render_table(doc)


def test_write_then_load_round_trip(doc, tmp_path):
    paths = write_results(doc, tmp_path / "out", chart=False)
    assert set(paths) == {"json", "csv"}
    assert load_results(paths["json"]) == doc
    assert [p.name for p in sorted((tmp_path / "out").iterdir())] == ["results.csv", "results.json"]


def test_load_rejects_unreadable_and_non_json(tmp_path):
    with pytest.raises(ValueError, match="results file not found"):
        load_results(tmp_path / "absent.json")
    garbage = tmp_path / "garbage.json"
    garbage.write_text("{not json")
    with pytest.raises(ValueError, match="garbage.json is not JSON"):
        load_results(garbage)
    wrong = tmp_path / "wrong.json"
    wrong.write_text(json.dumps({"schema": "something/1"}))
    with pytest.raises(ValueError, match="unknown results schema"):
        load_results(wrong)


def test_csv_one_line_per_row_under_header(doc, tmp_path):
    path = write_results(doc, tmp_path, chart=False)["csv"]
    lines = path.read_text().splitlines()
    assert len(lines) == 1 + len(doc["results"])
    records = list(csv.DictReader(lines))
    assert tuple(records[0]) == report.CSV_COLUMNS
    assert "samples_ms" not in records[0]
    for record, row in zip(records, doc["results"], strict=True):
        assert record["model"] == row["model"] and record["runtime"] == row["runtime"]
        assert record["input_size"] == "224x224"
        if row["error"] is None:
            assert float(record["median_ms"]) == row["median_ms"]
        else:
            assert record["median_ms"] == "" and record["error"] == row["error"]


def test_write_leaves_no_temp_files_and_replaces_old(doc, tmp_path):
    (tmp_path / "results.json").write_text("old")
    write_results(doc, tmp_path, chart=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results.csv", "results.json"]
    assert json.loads((tmp_path / "results.json").read_text())["schema"] == SCHEMA


# --- table ----------------------------------------------------------------------------------


def fixed_median_doc():
    """Rows whose medians are exact: overhead and speed-up can be asserted to the digit."""
    rows = []
    for model, runtime, median, threads in [
        ("mobilenetv2", "eager", 20.0, 1), ("mobilenetv2_ca", "eager", 23.0, 1),
        ("mobilenetv2", "onnxruntime", 8.0, 1), ("mobilenetv2_ca", "onnxruntime", 10.0, 1),
        ("mobilenetv2", "onnxruntime", 4.0, 2), ("mobilenetv2_ca", "onnxruntime", 4.2, 2),
    ]:  # fmt: skip
        row = make_row(model, runtime, median, threads=threads)
        row["samples_ms"] = [median - 0.5, median, median + 0.5]
        row.update(summarize(row["samples_ms"]))
        rows.append(row)
    return make_results(MACHINE, CONFIG, rows)


def test_table_lists_every_runtime_with_speedup_vs_eager(doc):
    table = render_table(doc)
    for runtime in ("eager", "executorch-xnnpack", "executorch-portable", "coreml"):
        assert runtime in table
    assert "vs eager" in table and "median ms" in table and "Test CPU 9000" in table
    fixed = render_table(fixed_median_doc())
    ort_line = next(ln for ln in fixed.splitlines() if "onnxruntime" in ln and "  10.00" in ln)
    assert ort_line.rstrip().endswith("2.3x")  # 23.0 / 10.0


def test_table_ca_overhead_section():
    table = render_table(fixed_median_doc())
    section = table.split("Attention overhead")[1].splitlines()
    eager_1 = next(ln for ln in section if " eager " in ln)
    assert eager_1.rstrip().endswith("+15.0%")  # 23 / 20
    ort_lines = [ln for ln in section if "onnxruntime" in ln]
    assert [ln.split()[-1] for ln in ort_lines] == ["+25.0%", "+5.0%"]  # 1 thread, then 2
    assert [ln.split()[4] for ln in ort_lines] == ["1", "2"]


def test_no_overhead_section_without_both_models():
    only_ca = make_results(MACHINE, CONFIG, [make_row("mobilenetv2_ca", "eager")])
    assert "Attention overhead" not in render_table(only_ca)


def test_device_rows_have_their_own_section(doc):
    table = render_table(doc)
    host, device = table.split("device: Pixel 8")
    assert host.startswith("host: Test CPU 9000")
    assert "soc Tensor G3" in device.splitlines()[0]
    assert "Pixel" not in host
    device_lines = [ln for ln in device.splitlines() if "executorch-xnnpack" in ln]
    assert len(device_lines) == 3  # two rows and one CA overhead line: +25% (5.0 vs 4.0)
    assert " eager " not in device  # host eager is no baseline for the phone
    assert all(ln.rstrip().endswith("-") for ln in device_lines[:2])


def test_error_rows_show_error_text(doc):
    line = next(ln for ln in render_table(doc).splitlines() if "coreml" in ln)
    assert "error: RuntimeError: Core ML runs on macOS only" in line


# --- chart and machine ----------------------------------------------------------------------


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == PNG_MAGIC
    return struct.unpack(">II", data[16:24])  # width, height from the IHDR chunk


def test_chart_is_a_png(doc, tmp_path):
    pytest.importorskip("matplotlib")
    paths = write_results(doc, tmp_path)
    assert paths["png"] == tmp_path / "results.png"
    data = paths["png"].read_bytes()
    assert len(data) > 20_000
    # Single row, linear axis, one sample: still draws; and is one panel, so shorter.
    one = make_results(MACHINE, CONFIG, [make_row("mobilenetv2", "eager", n=1)])
    small = render_chart(one, tmp_path / "one.png").read_bytes()
    assert len(small) > 5_000
    (width, height), (small_width, small_height) = png_size(data), png_size(small)
    assert width == small_width >= 1000
    assert height > 2 * small_height  # two host panels + one phone panel vs one panel
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "one.png", "results.csv", "results.json", "results.png"]  # fmt: skip


def test_chart_draws_rows_without_samples(tmp_path):
    pytest.importorskip("matplotlib")
    row = make_row("mobilenetv2_ca", "onnxruntime", device="Pixel 8")
    row.update(dict.fromkeys(STAT_FIELDS), samples_ms=[], threads=None, width_mult=None)
    row["mean_ms"] = 7.5  # onnxruntime_perf_test: a mean only
    doc = make_results(MACHINE, CONFIG, [row, make_row(device="Pixel 8", threads=2)])
    assert png_size(render_chart(doc, tmp_path / "c.png").read_bytes())[0] >= 1000


def test_chart_without_matplotlib_says_how_to_install(doc, tmp_path, monkeypatch):
    monkeypatch.setitem(__import__("sys").modules, "matplotlib", None)
    with pytest.raises(ImportError, match=r'pip install "coordatt\[bench\]"'):
        render_chart(doc, tmp_path / "x.png")
    with pytest.warns(UserWarning, match="results.png not written"):
        paths = write_results(doc, tmp_path)
    assert set(paths) == {"json", "csv"}


def test_parse_cpuinfo_x86_and_arm():
    x86 = "processor\t: 0\nmodel\t\t: 143\nmodel name\t: Intel Xeon\nflags\t\t: fpu avx2 fma " \
          "avx512f avx512_vnni sse4_2\n"  # fmt: skip
    assert report.parse_cpuinfo(x86) == ("Intel Xeon", ["avx2", "avx512f", "avx512_vnni", "fma"])
    arm = "processor\t: 0\nFeatures\t: fp asimd asimddp i8mm sve\nCPU part\t: 0xd40\n" \
          "Hardware\t: Qualcomm SM8550\n"  # fmt: skip
    assert report.parse_cpuinfo(arm) == ("Qualcomm SM8550", ["neon", "dotprod", "i8mm", "sve"])


def test_machine_info_fields():
    info = machine_info()
    assert set(info) == {"cpu", "cores", "isa", "os", "python", "versions"}
    assert isinstance(info["cpu"], str) and info["cpu"]
    assert info["cores"] >= 1
    assert set(info["isa"]) <= set(report.ISA_ORDER)
    assert info["versions"]["numpy"] == np.__version__
    assert set(info["versions"]) <= set(report.VERSIONED_PACKAGES)
    assert info["os"] and info["python"].count(".") == 2
