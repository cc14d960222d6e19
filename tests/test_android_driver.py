"""The adb driver against tests/fake_adb/adb, stand-in phones kept in a temporary folder."""

import time

import pytest
from fake_adb import phones
from fake_adb.phones import ARTIFACTS, FAKE_ADB_DIR, RUNTIMES, quick

from coordatt.bench import android
from coordatt.bench.android import (
    AdbNotFound,
    AdbTimeout,
    AppCrashed,
    AppFailed,
    AppNotInstalled,
    ArtifactError,
    DeviceNotReady,
    DeviceUnauthorized,
    InstallFailed,
    MultipleDevices,
    NoDevice,
    NoResult,
    RunSettings,
    StaleResult,
    find_adb,
    run_benchmark,
    run_on_device,
    select_device,
    start_command,
)
from coordatt.bench.stats import STAT_FIELDS, summarize


@pytest.fixture
def phone(tmp_path, monkeypatch) -> phones.FakePhones:
    return phones.make_phone(tmp_path, monkeypatch)


@pytest.fixture
def artifacts(tmp_path) -> list:
    return phones.make_artifacts(tmp_path)


# --- one phone, one run --------------------------------------------------------------------


def test_run_on_device_end_to_end(phone, artifacts):
    settings = RunSettings(iters=12, warmup=2, threads=2, rounds=3, cooldown_ms=5)
    rows = run_on_device(artifacts, settings=settings, timeout_s=20)
    assert sorted(row["runtime"] for row in rows) == RUNTIMES  # an .onnx gives two rows
    for row in rows:
        assert (row["device"], row["device_serial"]) == ("Pixel 8", "FAKE0001")
        assert row["device_info"]["soc"] == "Tensor G3"
        assert row["device_info"]["abi"] == "arm64-v8a"
        assert row["device_info"]["android"] == "15"
        assert row["device_info"]["runtimes"]["executorch"] == "1.5.1"
        assert row["source"] == "android-app" and row["peak_rss_mb"] is None
        assert (row["iters"], row["warmup"], row["threads"]) == (12, 2, 2)
        assert len(row["samples_ms"]) == 12
        assert {key: row[key] for key in STAT_FIELDS} == pytest.approx(
            summarize(row["samples_ms"]))
        assert row["model"] == "mobilenetv2_ca" and row["input_size"] == [32, 32]
        assert row["memory"]["pss_delta_mb"] == 20.5 and row["conditions"]["screen_on"]
        assert row["flagged"] is None and row["top1"] is None
    checks = {row["artifact"]: row["check"]["status"] for row in rows}
    assert checks == {"mobilenetv2_ca_100_xnnpack_fp32.pte": "passed",
                      "mobilenetv2_ca_100_xnnpack_int8.pte": "passed",
                      "mobilenetv2_ca_100_litert_fp32.tflite": "passed",
                      "mobilenetv2_ca_100_onnx_fp32.onnx": "missing"}
    remote = phone.storage() / "data/local/tmp/coordatt"
    pushed = sorted(p.name for p in remote.iterdir())
    assert pushed == sorted([n for n, *_ in ARTIFACTS] + [n + ".json" for n, *_ in ARTIFACTS]
                            + [n + ".check.bin" for n, *_, c in ARTIFACTS if c])
    calls = phone.calls()
    assert calls[0] == ["devices", "-l"]
    assert all(call[:2] == ["-s", "FAKE0001"] for call in calls[1:])
    shell = phone.shell_calls()
    # force-stop before anything is pushed; the folder emptied, then readable to the app
    first_push = next(i for i, c in enumerate(calls) if c[2:3] == ["push"])
    assert "am force-stop org.coordatt.demo" in [c[3] for c in calls[:first_push]
                                                 if c[2:3] == ["shell"]]
    assert shell.index("rm -rf /data/local/tmp/coordatt") < shell.index(
        "chmod -R o+rX /data/local/tmp/coordatt")
    (start,) = [c for c in shell if c.startswith("am start")]
    run_id = start.split("--es run_id ")[1].split()[0]
    assert len(run_id) == 32 and int(run_id, 16) >= 0
    assert start == (
        "am start -S -W -n org.coordatt.demo/.BenchmarkActivity --es model_dir "
        f"/data/local/tmp/coordatt --es run_id {run_id} --ei iters 12 --ei warmup 2 "
        "--ei threads 2 --ei rounds 3 --ei cooldown_ms 5")
    assert start == " ".join(start_command(settings))
    # woken, kept awake during the run, the earlier stay-on setting ("0") restored
    assert {"input keyevent KEYCODE_WAKEUP", "wm dismiss-keyguard",
            "svc power stayon usb"} <= set(shell)
    assert shell.index("svc power stayon usb") < shell.index(start)
    assert shell[-1] == "settings put global stay_on_while_plugged_in 0"
    assert phone.state("stay_on") == "0" and phone.state("chmod") == "/data/local/tmp/coordatt"


def test_each_run_has_its_own_run_id_and_runtimes_subset(phone, artifacts):
    runs = [quick(threads=1, runtimes=("onnxruntime-xnnpack", "litert")), quick(threads=2)]
    rows = run_on_device(artifacts, settings=runs, timeout_s=20)
    assert [(r["threads"], r["runtime"]) for r in rows[:2]] == [
        (1, "litert"), (1, "onnxruntime-xnnpack")]
    assert len(rows) == 2 + len(RUNTIMES)
    starts = [c for c in phone.shell_calls() if c.startswith("am start")]
    ids = {s.split("--es run_id ")[1].split()[0] for s in starts}
    assert len(starts) == len(ids) == 2
    assert starts[0].endswith("--es runtimes onnxruntime-xnnpack,litert")
    # pushed once for both thread counts
    assert sum(1 for c in phone.calls() if c[2:3] == ["push"]) == len(ARTIFACTS)


def test_default_rounds_and_threads_zero_refused():
    assert [RunSettings(iters=n).block_rounds for n in (1, 9, 10, 50, 1000)] == [1, 1, 1, 5, 10]
    with pytest.raises(ValueError, match="threads=0 is refused.*ExecuTorch.*ONNX Runtime"):
        RunSettings(threads=0).validate()
    with pytest.raises(ValueError, match="rounds=7.*from 1 to iters \\(5\\)"):
        RunSettings(iters=5, rounds=7).validate()
    with pytest.raises(ValueError, match="iters=0"):
        RunSettings(iters=0).validate()
    with pytest.raises(ValueError, match="threads=-1"):
        RunSettings(threads=-1).validate()


def test_stale_results_file_is_refused(phone, artifacts):
    phone.mode("stale")
    started = time.monotonic()
    with pytest.raises(StaleResult, match="refused files/benchmark_results.json: its run_id "
                                          "'0123456789abcdef.*' is not this run's") as info:
        run_on_device(artifacts, settings=quick(), timeout_s=20)
    assert time.monotonic() - started < 5 and "\n" not in info.value.message


def test_failed_file_ends_the_wait(phone, artifacts):
    phone.mode("failed")
    started = time.monotonic()
    with pytest.raises(AppFailed, match="the app gave up: final write failed: ENOSPC") as info:
        run_on_device(artifacts, settings=quick(), timeout_s=30)
    assert time.monotonic() - started < 5
    assert "1 row(s) finished first" in info.value.message and len(info.value.rows) == 1
    assert info.value.rows[0]["device_serial"] == "FAKE0001"
    assert any("FAILED" in line for line in info.value.details)


def test_results_the_schema_cannot_hold_are_refused(phone, artifacts):
    phone.mode("bad-row")
    with pytest.raises(NoResult, match="coordatt cannot use .*'top1' is 1.5.*fraction") as info:
        run_on_device(artifacts, settings=quick(), timeout_s=20)
    assert "\n" not in info.value.message


def test_unreadable_push_says_so(phone, artifacts):
    phone.mode("chmod-fails")
    with pytest.raises(DeviceNotReady, match="could not make /data/local/tmp/coordatt "
                                             "readable to the app.*Operation not permitted"):
        run_on_device(artifacts, settings=quick(), timeout_s=20)


def test_disappearing_phone(phone, artifacts):
    phone.mode("vanish")
    started = time.monotonic()
    with pytest.raises(NoDevice, match="FAKE0001 disconnected during the run"):
        run_on_device(artifacts, settings=quick(), timeout_s=20)
    assert time.monotonic() - started < 5


def test_failed_check_flags_the_row(phone, artifacts):
    phone.mode("check-failed")
    damaged = artifacts[3].with_name(artifacts[3].name + ".check.bin")
    damaged.write_bytes(b"COORDCHK damaged")  # its sidecar's sha256 no longer matches
    rows = run_on_device(artifacts, settings=quick(), timeout_s=20)
    flagged = {r["runtime"]: r["flagged"] for r in rows if r["flagged"]}
    assert flagged == {"executorch-xnnpack-int8": "check failed: cosine 0.62 < 0.95",
                       "litert": "check failed: sha256 differs from the sidecar's: damaged "
                                 "file"}
    assert all(r["samples_ms"] for r in rows)  # the timing is kept


def test_failure_file_of_another_run_is_not_this_runs(phone, monkeypatch):
    phone.mode("no-result")
    monkeypatch.setenv("FAKE_ADB_FOREIGN_FAILED", "1")
    with pytest.raises(NoResult, match="wrote no readable"):
        run_benchmark(select_device(), quick(), timeout_s=1)


def test_row_without_runtime_stays_an_error_row(phone):
    from coordatt.bench.android.run import tag_rows
    from coordatt.bench.device_logs.rows import make_row
    from coordatt.bench.report import make_results

    (row,) = tag_rows(select_device(), [{"runtime": None, "artifact": "x.onnx",
                                         "error": "no sidecar", "device_info": None}])
    assert (row["runtime"], row["error"], row["flagged"]) == ("unknown", "no sidecar", None)
    full = make_row(source="android-app", samples_ms=[], artifact="x.onnx") | row
    make_results({}, {}, [full])  # a valid results row


def test_install_apk(phone, artifacts, tmp_path):
    apk = tmp_path / "app-debug.apk"
    apk.write_bytes(b"PK\x03\x04")
    run_on_device(artifacts[:1], apk=apk, settings=quick(), timeout_s=20)
    assert phone.state("installed") == "app-debug.apk"
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
        ("two-devices", MultipleDevices,
         "FAKE0001 \\(device\\), FAKE0002 \\(device\\).*--serial.*--all-devices"),
    ],
)
def test_device_selection_errors(phone, mode, error, message):
    phone.mode(mode)
    with pytest.raises(error, match=message) as info:
        select_device()
    assert "\n" not in str(info.value)


def test_serial_chooses_among_several(phone, artifacts):
    phone.mode("two-devices")
    rows = run_on_device(artifacts, serial="FAKE0002", settings=quick(), timeout_s=20)
    assert {(r["device"], r["device_serial"]) for r in rows} == {("Galaxy S24", "FAKE0002")}
    assert all(call[:2] == ["-s", "FAKE0002"] for call in phone.calls()[1:])
    with pytest.raises(NoDevice, match="'FAKE9999' not connected.*FAKE0001, FAKE0002"):
        select_device("FAKE9999")


def test_app_crash_reports_logcat(phone, artifacts):
    phone.mode("crash")
    started = time.monotonic()
    with pytest.raises(AppCrashed, match="died before writing") as info:
        run_on_device(artifacts, settings=quick(iters=3), timeout_s=20)
    assert time.monotonic() - started < 5
    assert any("FATAL EXCEPTION" in line for line in info.value.details)
    assert "1 row(s) finished first" in info.value.message
    (finished,) = info.value.rows  # from the app's partial file, this run's run_id
    assert finished["device"] == "Pixel 8" and len(finished["samples_ms"]) == 3
    assert "UnsatisfiedLinkError" in str(info.value)
    assert "\n" not in info.value.message


def test_activity_start_error(phone, artifacts):
    phone.mode("start-error")
    with pytest.raises(AppCrashed, match="could not start .*does not exist.*--apk"):
        run_on_device(artifacts, settings=quick(), timeout_s=20)


def test_app_not_installed(phone):
    with pytest.raises(AppNotInstalled, match="unknown package: org.other.app.*--apk"):
        run_benchmark(select_device(), quick(), package="org.other.app", timeout_s=5)


def test_no_result_within_timeout(phone):
    phone.mode("no-result")
    started = time.monotonic()
    with pytest.raises(NoResult, match="wrote no readable .* within 1 s") as info:
        run_benchmark(select_device(), quick(), timeout_s=1)
    assert time.monotonic() - started < 3
    assert any("still waiting" in line for line in info.value.details)


def test_hanging_adb_call_times_out(phone):
    phone.mode("hang")
    started = time.monotonic()
    with pytest.raises(AdbTimeout, match="'adb shell am start' did not answer"):
        run_benchmark(select_device(), quick(), timeout_s=1.2)
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
    with pytest.raises(ArtifactError, match="no .pte, .onnx or .tflite artifact"):
        run_on_device([artifacts[-1]], timeout_s=5)  # only the .mlpackage


def test_error_text_is_one_line_then_details():
    error = android.AdbError("do this", ["a", "b"])
    assert str(error) == "do this\n  | a\n  | b"
    assert str(android.AdbError("only")) == "only"
