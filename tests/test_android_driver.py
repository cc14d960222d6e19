"""The adb driver against tests/fake_adb/adb, a stand-in phone kept in a temporary folder."""

import json
import os
import sys
import time
from pathlib import Path

import pytest

from coordatt.bench import android
from coordatt.bench.android import (
    AdbNotFound,
    AdbTimeout,
    AppCrashed,
    AppNotInstalled,
    ArtifactError,
    DeviceUnauthorized,
    InstallFailed,
    MultipleDevices,
    NoDevice,
    NoResult,
    find_adb,
    run_on_device,
    select_device,
)
from coordatt.bench.stats import STAT_FIELDS, summarize

FAKE_ADB_DIR = Path(__file__).parent / "fake_adb"
ARTIFACTS = (
    ("mobilenetv2_ca_100_xnnpack_fp32.pte", "pte", "xnnpack", "fp32"),
    ("mobilenetv2_ca_100_xnnpack_int8.pte", "pte", "xnnpack", "int8"),
    ("mobilenetv2_ca_100_onnx_fp32.onnx", "onnx", "onnx", "fp32"),
)


class FakePhone:
    def __init__(self, root: Path, monkeypatch: pytest.MonkeyPatch):
        self.root = root
        self.monkeypatch = monkeypatch

    def mode(self, mode: str) -> "FakePhone":
        self.monkeypatch.setenv("FAKE_ADB_MODE", mode)
        return self

    def calls(self) -> list[list[str]]:
        log = self.root / "adb_calls.jsonl"
        return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


@pytest.fixture
def phone(tmp_path, monkeypatch) -> FakePhone:
    root = tmp_path / "phone"
    root.mkdir()
    # the fake's `#!/usr/bin/env -S python3 -S` must find this interpreter first
    path = os.pathsep.join([str(FAKE_ADB_DIR), str(Path(sys.executable).parent)])
    monkeypatch.setenv("PATH", path + os.pathsep + os.environ.get("PATH", ""))
    monkeypatch.setenv("FAKE_ADB_ROOT", str(root))
    monkeypatch.delenv("ANDROID_HOME", raising=False)
    monkeypatch.delenv("ANDROID_SDK_ROOT", raising=False)
    return FakePhone(root, monkeypatch).mode("ok")


@pytest.fixture
def artifacts(tmp_path) -> list[Path]:
    folder = tmp_path / "artifacts"
    folder.mkdir()
    paths = []
    for name, fmt, backend, precision in ARTIFACTS:
        path = folder / name
        path.write_bytes(b"\x00model bytes " + name.encode())
        sidecar = {
            "schema": "coordatt.artifact/2",
            "artifact": name,
            "format": fmt,
            "model": "mobilenetv2_ca",
            "name": "mobilenetv2_ca",
            "width_mult": 1.0,
            "num_classes": 3,
            "backend": backend,
            "precision": precision,
            "input": {"name": "image", "shape": [1, 3, 224, 224], "dtype": "float32"},
            "output": {"name": "logits", "shape": [1, 3], "dtype": "float32"},
            "labels": ["cat", "dog", "fox"],
            "labels_source": "file",
        }
        path.with_name(name + ".json").write_text(json.dumps(sidecar))
        paths.append(path)
    mlpackage = folder / "mobilenetv2_ca_100_mlprogram_fp16.mlpackage"
    (mlpackage / "Data").mkdir(parents=True)
    return [*paths, mlpackage]


def test_run_on_device_end_to_end(phone, artifacts):
    rows = run_on_device(artifacts, iters=12, warmup=2, threads=2, timeout_s=20)
    assert sorted(row["runtime"] for row in rows) == [
        "executorch-xnnpack",
        "executorch-xnnpack-int8",
        "onnxruntime",
    ]
    for row in rows:
        assert row["device"] == "Pixel 8"
        assert row["device_info"]["soc"] == "Tensor G3"
        assert row["device_info"]["abi"] == "arm64-v8a"
        assert row["device_info"]["android"] == "15"
        assert row["device_info"]["runtimes"]["executorch"] == "1.5.1"
        assert row["source"] == "android-app"
        assert (row["iters"], row["warmup"], row["threads"]) == (12, 2, 2)
        assert len(row["samples_ms"]) == 12
        expected = summarize(row["samples_ms"])
        assert {key: row[key] for key in STAT_FIELDS} == pytest.approx(expected)
        assert row["model"] == "mobilenetv2_ca" and row["input_size"] == [224, 224]
    remote = phone.root / "data/local/tmp/coordatt"
    assert sorted(p.name for p in remote.iterdir()) == sorted(
        [name for name, *_ in ARTIFACTS] + [name + ".json" for name, *_ in ARTIFACTS]
    )
    calls = phone.calls()
    assert calls[0] == ["devices", "-l"]
    assert all(call[:2] == ["-s", "FAKE0001"] for call in calls[1:])
    (start,) = [call for call in calls if call[2:3] == ["shell"] and "am start" in call[3]]
    assert start[3] == (
        "am start -W -n org.coordatt.demo/.BenchmarkActivity --es model_dir "
        "/data/local/tmp/coordatt --ei iters 12 --ei warmup 2 --ei threads 2"
    )


def test_stale_result_is_removed_before_the_run(phone, artifacts):
    files = phone.root / "data/data/org.coordatt.demo/files"
    files.mkdir(parents=True)
    (files / "benchmark_results.json").write_text(
        json.dumps({"schema": "coordatt.bench/1", "results": []})
    )
    rows = run_on_device(artifacts, iters=5, warmup=0, threads=1, timeout_s=20)
    assert len(rows) == 3


def test_install_apk(phone, artifacts, tmp_path):
    apk = tmp_path / "app-debug.apk"
    apk.write_bytes(b"PK\x03\x04")
    run_on_device(artifacts[:1], apk=apk, iters=3, warmup=0, threads=1, timeout_s=20)
    assert (phone.root / "installed.txt").read_text() == "app-debug.apk"
    with pytest.raises(InstallFailed, match="does not exist"):
        select_device().install_apk(tmp_path / "missing.apk")


def test_device_info(phone):
    info = select_device().device_info()
    assert info == {"model": "Pixel 8", "soc": "Tensor G3", "abi": "arm64-v8a", "android": "15"}


@pytest.mark.parametrize(
    ("mode", "error", "message"),
    [
        ("no-device", NoDevice, "connect a phone by USB and enable USB debugging"),
        ("unauthorized", DeviceUnauthorized, "accept the 'Allow USB debugging\\?' RSA key"),
        ("no-permissions", DeviceUnauthorized, "udev rule"),
        ("two-devices", MultipleDevices, "FAKE0001 \\(device\\), FAKE0002 \\(device\\).*--serial"),
    ],
)
def test_device_selection_errors(phone, mode, error, message):
    phone.mode(mode)
    with pytest.raises(error, match=message) as info:
        select_device()
    assert "\n" not in str(info.value)


def test_serial_chooses_among_several(phone, artifacts):
    phone.mode("two-devices")
    rows = run_on_device(artifacts, serial="FAKE0002", iters=4, warmup=0, threads=1, timeout_s=20)
    assert len(rows) == 3
    assert all(call[:2] == ["-s", "FAKE0002"] for call in phone.calls()[1:])
    with pytest.raises(NoDevice, match="'FAKE9999' not connected.*FAKE0001, FAKE0002"):
        select_device("FAKE9999")


def test_app_crash_reports_logcat(phone, artifacts):
    phone.mode("crash")
    started = time.monotonic()
    with pytest.raises(AppCrashed, match="died before writing") as info:
        run_on_device(artifacts, iters=5, warmup=0, threads=1, timeout_s=20)
    assert time.monotonic() - started < 5
    assert any("FATAL EXCEPTION" in line for line in info.value.details)
    assert "1 row(s) finished first" in info.value.message
    (finished,) = info.value.rows  # from the app's partial file
    assert finished["device"] == "Pixel 8" and len(finished["samples_ms"]) == 3
    assert "UnsatisfiedLinkError" in str(info.value)
    assert "\n" not in info.value.message


def test_activity_start_error(phone, artifacts):
    phone.mode("start-error")
    with pytest.raises(AppCrashed, match="could not start .*does not exist.*--apk"):
        run_on_device(artifacts, iters=5, warmup=0, threads=1, timeout_s=20)


def test_app_not_installed(phone):
    device = select_device()
    with pytest.raises(AppNotInstalled, match="unknown package: org.other.app.*--apk"):
        device.run_benchmark(package="org.other.app", timeout_s=5)


def test_no_result_within_timeout(phone):
    phone.mode("no-result")
    device = select_device()
    started = time.monotonic()
    with pytest.raises(NoResult, match="wrote no readable .* within 1 s") as info:
        device.run_benchmark(iters=5, warmup=0, threads=1, timeout_s=1)
    assert time.monotonic() - started < 3
    assert any("still waiting" in line for line in info.value.details)


def test_hanging_adb_call_times_out(phone):
    phone.mode("hang")
    device = select_device()
    started = time.monotonic()
    with pytest.raises(AdbTimeout, match="'adb shell am start' did not answer"):
        device.run_benchmark(iters=5, warmup=0, threads=1, timeout_s=1.2)
    assert time.monotonic() - started < 3


def test_find_adb_on_path_and_android_home(phone, tmp_path, monkeypatch):
    assert find_adb() == FAKE_ADB_DIR / "adb"
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(AdbNotFound, match="install Android SDK platform-tools"):
        find_adb()
    with pytest.raises(AdbNotFound):
        run_on_device([], timeout_s=1)
    sdk = tmp_path / "sdk"
    (sdk / "platform-tools").mkdir(parents=True)
    (sdk / "platform-tools" / "adb").symlink_to(FAKE_ADB_DIR / "adb")
    monkeypatch.setenv("ANDROID_HOME", str(sdk))
    assert find_adb() == sdk / "platform-tools" / "adb"


def test_artifact_errors(phone, artifacts):
    artifacts[0].with_name(artifacts[0].name + ".json").unlink()
    device = select_device()
    with pytest.raises(ArtifactError, match="no sidecar .*re-export"):
        device.push_artifacts(artifacts)
    with pytest.raises(ArtifactError, match="does not exist"):
        device.push_artifacts([artifacts[0].with_name("absent.pte")])
    with pytest.raises(ArtifactError, match="no .pte or .onnx artifact"):
        run_on_device([artifacts[-1]], timeout_s=5)  # only the .mlpackage


def test_bad_run_settings(phone):
    device = select_device()
    with pytest.raises(ValueError, match="iters=0"):
        device.run_benchmark(iters=0)
    with pytest.raises(ValueError, match="threads=-1"):
        device.run_benchmark(threads=-1)


def test_error_text_is_one_line_then_details():
    error = android.AdbError("do this", ["a", "b"])
    assert str(error) == "do this\n  | a\n  | b"
    assert str(android.AdbError("only")) == "only"
