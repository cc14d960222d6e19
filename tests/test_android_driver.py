"""The adb driver against tests/fake_adb/adb, stand-in phones kept in a temporary folder."""

import hashlib
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

FAKE_ADB_DIR = Path(__file__).parent / "fake_adb"
LABELS = ["cat", "dog", "fox"]
ARTIFACTS = (  # name, format, backend, precision, with a check file
    ("mobilenetv2_ca_100_xnnpack_fp32.pte", "pte", "xnnpack", "fp32", True),
    ("mobilenetv2_ca_100_xnnpack_int8.pte", "pte", "xnnpack", "int8", True),
    ("mobilenetv2_ca_100_onnx_fp32.onnx", "onnx", "onnx", "fp32", False),
    ("mobilenetv2_ca_100_litert_fp32.tflite", "tflite", "litert", "fp32", True),
)
RUNTIMES = ["executorch-xnnpack", "executorch-xnnpack-int8", "litert", "onnxruntime",
            "onnxruntime-xnnpack"]
PREPROCESS = {"resize": [36, 36], "crop": [32, 32], "scale": 1 / 255,
              "mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225]}


class FakePhones:
    def __init__(self, root: Path, monkeypatch: pytest.MonkeyPatch):
        self.root = root
        self.monkeypatch = monkeypatch

    def mode(self, mode: str, **per_serial: str) -> "FakePhones":
        self.monkeypatch.setenv("FAKE_ADB_MODE", mode)
        self.monkeypatch.setenv("FAKE_ADB_MODES", ",".join(f"{s}={m}"
                                                           for s, m in per_serial.items()))
        return self

    def serials(self, *serials: str) -> "FakePhones":
        self.monkeypatch.setenv("FAKE_ADB_SERIALS", ",".join(serials))
        return self

    def calls(self) -> list[list[str]]:
        log = self.root / "adb_calls.jsonl"
        return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []

    def shell_calls(self, serial: str = "FAKE0001") -> list[str]:
        return [c[3] for c in self.calls() if c[:3] == ["-s", serial, "shell"]]

    def storage(self, serial: str = "FAKE0001") -> Path:
        return self.root / serial

    def state(self, name: str, serial: str = "FAKE0001") -> str | None:
        path = self.root / serial / "state" / name
        return path.read_text() if path.exists() else None


@pytest.fixture
def phone(tmp_path, monkeypatch) -> FakePhones:
    root = tmp_path / "phone"
    root.mkdir()
    # the fake's `#!/usr/bin/env -S python3 -S` must find this interpreter first
    path = os.pathsep.join([str(FAKE_ADB_DIR), str(Path(sys.executable).parent)])
    monkeypatch.setenv("PATH", path + os.pathsep + os.environ.get("PATH", ""))
    monkeypatch.setenv("FAKE_ADB_ROOT", str(root))
    monkeypatch.delenv("FAKE_ADB_SERIALS", raising=False)
    monkeypatch.delenv("ANDROID_HOME", raising=False)
    monkeypatch.delenv("ANDROID_SDK_ROOT", raising=False)
    return FakePhones(root, monkeypatch).mode("ok")


@pytest.fixture
def artifacts(tmp_path) -> list[Path]:
    folder = tmp_path / "artifacts"
    folder.mkdir()
    paths = []
    for name, fmt, backend, precision, with_check in ARTIFACTS:
        path = folder / name
        path.write_bytes(b"\x00model bytes " + name.encode())
        sidecar = {
            "schema": "coordatt.artifact/2", "artifact": name, "format": fmt,
            "model": "mobilenetv2_ca", "name": "mobilenetv2_ca", "width_mult": 1.0,
            "num_classes": 3, "backend": backend, "precision": precision,
            "input": {"name": "image", "shape": [1, 3, 32, 32], "dtype": "float32"},
            "output": {"name": "logits", "shape": [1, 3], "dtype": "float32"},
            "preprocess": PREPROCESS, "labels": LABELS, "labels_source": "file",
            "identity": {"model": "mobilenetv2_ca", "input_size": [32, 32]},
        }
        if with_check:
            check = folder / (name + ".check.bin")
            check.write_bytes(b"COORDCHK" + name.encode())
            sidecar["check"] = {"file": check.name, "format": "coordatt.check/1",
                                "sha256": hashlib.sha256(check.read_bytes()).hexdigest()}
        path.with_name(name + ".json").write_text(json.dumps(sidecar))
        paths.append(path)
    mlpackage = folder / "mobilenetv2_ca_100_mlprogram_fp16.mlpackage"
    (mlpackage / "Data").mkdir(parents=True)
    return [*paths, mlpackage]


def quick(**kw) -> RunSettings:
    return RunSettings(**{"iters": 4, "warmup": 0, "threads": 1, **kw})


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


# --- coordatt-bench --device android: several phones, checks, eval, device farm -------------


@pytest.fixture
def bench(phone, artifacts, tmp_path, monkeypatch):
    """coordatt-bench --device android on the fake phones, the artifacts given (no export);
    the chart is drawn only where a test asks for it (``chart=True``): it costs ~1 s."""
    from coordatt.bench import report
    from coordatt.bench.android import bench as android_bench
    from coordatt.bench.cli import main

    monkeypatch.setattr(android_bench, "android_artifacts",
                        lambda config, **kw: list(artifacts))
    out = tmp_path / "out"

    def no_chart(doc, path):
        raise RuntimeError("not drawn in this test")

    def run(*args: str, chart: bool = False) -> tuple[int, dict | None]:
        with pytest.MonkeyPatch.context() as mp:
            if not chart:
                mp.setattr(report, "render_chart", no_chart)
            code = main(["--device", "android", "--artifacts", str(artifacts[0].parent),
                         "--iters", "4", "--warmup", "0", "--output-dir", str(out),
                         "--device-timeout", "20", *args])
        results = out / "results.json"
        return code, json.loads(results.read_text()) if results.exists() else None

    return run


def test_cli_one_phone_table_and_results(bench, phone, capsys):
    code, doc = bench("--threads", "1,2", "--device-rounds", "2", "--device-cooldown", "0.05")
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert len(doc["results"]) == 2 * len(RUNTIMES)
    android_setup = doc["config"]["android"]
    assert android_setup["rounds"] == 2 and android_setup["cooldown_ms"] == 50
    assert set(android_setup["run_ids"]) == {"1", "2"}
    assert doc["config"]["isolation"].startswith("one app process per phone")
    row = doc["results"][0]
    assert row["device_serial"] == "FAKE0001" and row["check"]["status"] in ("passed", "missing")
    assert "device: Pixel 8 [FAKE0001]" in captured.out
    assert "check" in captured.out and "+pss MB" in captured.out
    csv_header = (phone.root.parent / "out" / "results.csv").read_text().splitlines()[0]
    assert "device_serial" in csv_header and "check,flagged" in csv_header


def test_cli_threads_zero_refused_at_parse_time(capsys):
    from coordatt.bench.cli import main

    with pytest.raises(SystemExit) as e:
        main(["--device", "android", "--threads", "0"])
    err = capsys.readouterr().err
    assert e.value.code == 2 and "0 threads is refused" in err and "ExecuTorch" in err
    assert "Traceback" not in err


def test_cli_flagged_rows_exit_1_and_hot_phone_notes(bench, phone, capsys):
    phone.serials("FAKE0001", "FAKE0002").mode("ok", FAKE0001="check-failed", FAKE0002="hot")
    code, doc = bench("--all-devices")
    captured = capsys.readouterr()
    assert code == 1
    (line,) = [ln for ln in captured.err.splitlines() if ln.startswith("error:")]
    assert "1 row(s) flagged on the phone (check failed: cosine 0.62 < 0.95)" in line
    flagged = [r for r in doc["results"] if r["flagged"]]
    assert [(r["runtime"], r["device_serial"]) for r in flagged] == [
        ("executorch-xnnpack-int8", "FAKE0001")]
    assert flagged[0]["check"]["status"] == "failed" and flagged[0]["samples_ms"]
    assert " !executorch-xnnpack-int8" in captured.out and "FLAGGED: not a result" in captured.out
    assert "! flagged: executorch-xnnpack-int8" in captured.out
    # the hot phone: its conditions kept in results.json and said in the table's notes
    hot = [r for r in doc["results"] if r["device_serial"] == "FAKE0002"]
    assert all(r["conditions"]["battery_temp_c"] == 44.5 for r in hot)
    assert all(r["memory"]["pss_peak_mb"] >= 80.5 for r in hot)
    section = captured.out[captured.out.index("device: Galaxy S24 [FAKE0002]"):]
    assert "hot (thermal 3)" in section and "screen off" in section
    assert "not foreground" in section and "hot" not in captured.out.split(
        "device: Galaxy S24")[0]


def test_cli_several_phones_in_parallel(bench, phone, monkeypatch, capsys):
    phone.serials("FAKE0001", "FAKE0002").mode("slow")
    monkeypatch.setenv("FAKE_ADB_SLOW_S", "1.5")
    code, doc = bench("--serial", "FAKE0001,FAKE0002", chart=True)
    out = capsys.readouterr().out
    assert code == 0
    by_serial = {}
    for row in doc["results"]:
        by_serial.setdefault(row["device_serial"], []).append(row)
    assert sorted(by_serial) == ["FAKE0001", "FAKE0002"]
    assert {r["device"] for r in by_serial["FAKE0002"]} == {"Galaxy S24"}
    assert all(len(rows) == len(RUNTIMES) for rows in by_serial.values())
    assert "device: Pixel 8 [FAKE0001]" in out and "device: Galaxy S24 [FAKE0002]" in out
    png = phone.root.parent / "out" / "results.png"  # one chart, a panel per phone
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # in parallel: the second phone started before the first one's results (1.5 s) were ready
    starts = dict(line.split() for line in (phone.root / "starts.txt").read_text().splitlines())
    assert abs(float(starts["FAKE0001"]) - float(starts["FAKE0002"])) < 1.5
    for serial in ("FAKE0001", "FAKE0002"):  # each process spoke to its own phone only
        assert phone.shell_calls(serial) and phone.state("stay_on", serial) == "0"


def test_cli_a_phone_that_disappears_gives_error_rows(bench, phone, capsys):
    phone.serials("FAKE0001", "FAKE0002").mode("ok", FAKE0002="vanish")
    code, doc = bench("--all-devices")
    captured = capsys.readouterr()
    assert code == 0, captured.err
    good = [r for r in doc["results"] if r["device_serial"] == "FAKE0001"]
    lost = [r for r in doc["results"] if r["device_serial"] == "FAKE0002"]
    assert len(good) == len(lost) == len(RUNTIMES) and all(r["error"] is None for r in good)
    assert all("FAKE0002 disconnected during the run" in r["error"] for r in lost)
    assert {r["runtime"] for r in lost} == set(RUNTIMES) and lost[0]["device"] == "Galaxy S24"
    assert "note: FAKE0002: FAKE0002 disconnected" in captured.err


def test_cli_slow_unauthorized_and_absent_phones_do_not_hold_the_others(bench, phone, monkeypatch,
                                                                  capsys):
    phone.serials("FAKE0001", "FAKE0002", "FAKE0003").mode(
        "ok", FAKE0002="slow", FAKE0003="unauthorized")
    monkeypatch.setenv("FAKE_ADB_SLOW_S", "60")
    started = time.monotonic()
    code, doc = bench("--serial", "FAKE0001,FAKE0002,FAKE0003,FAKE0009", "--device-timeout", "4")
    assert time.monotonic() - started < 20
    errors = {}
    for row in doc["results"]:
        errors.setdefault(row["device_serial"], set()).add(row["error"])
    assert errors["FAKE0001"] == {None}
    (absent,) = errors["FAKE0009"]
    assert "device FAKE0009 is not connected" in absent
    (slow,) = errors["FAKE0002"]
    assert "wrote no readable files/benchmark_results.json within" in slow
    (unauthorized,) = errors["FAKE0003"]
    assert "FAKE0003 is unauthorized" in unauthorized
    assert code == 0


def test_cli_eval_on_the_phone(bench, phone, artifacts, tmp_path, monkeypatch, capsys):
    import numpy as np
    import torch
    from PIL import Image

    from coordatt.bench.android import evalset
    from coordatt.bench.subjects import Subject
    from coordatt.mobilenetv2 import MobileNetV2
    from coordatt.preprocess import load_image

    torch.manual_seed(0)
    net = MobileNetV2(num_classes=3, attn="ca", settings=((1, 16, 1, 1), (6, 24, 2, 2))).eval()
    sidecar = json.loads(artifacts[0].with_name(artifacts[0].name + ".json").read_text())
    subject = Subject("mobilenetv2_ca", 1.0, (32, 32), np.zeros((1, 3, 32, 32), np.float32),
                      network=net, artifacts={"executorch-xnnpack": artifacts[0]},
                      sidecar=sidecar)
    monkeypatch.setattr(evalset, "_subjects_of", lambda paths: [subject])
    data = tmp_path / "data"
    rng = np.random.default_rng(0)
    for name in ("cat", "dog", "fox", "wolf"):  # wolf: a class the labels lack
        (data / name).mkdir(parents=True)
        for i in range(3):
            pixels = rng.integers(0, 255, (40, 40, 3), dtype=np.uint8)
            Image.fromarray(pixels).save(data / name / f"{i}.png")
    (data / "cat" / "broken.png").write_bytes(b"not a png")
    code, doc = bench("--eval-dir", str(data), "--device-eval-limit", "12")
    captured = capsys.readouterr()
    assert code == 0, captured.err
    # the sample pushed: 12 of 13 files, seeded, with the host's eager top-1
    pushed = phone.storage() / "data/local/tmp/coordatt/eval"
    import csv

    table = list(csv.DictReader((pushed / "eval_labels.csv").open(encoding="utf-8")))
    assert len(table) == 12 and list(table[0]) == ["file", "class", "eager_top1"]
    for entry in table:
        image = pushed / entry["file"]
        if entry["class"] == "wolf" or image.read_bytes()[:4] != b"\x89PNG":
            assert entry["eager_top1"] == ""  # not evaluated here either
            continue
        x = load_image(image, PREPROCESS)
        with torch.no_grad():
            assert int(entry["eager_top1"]) == int(net(x).argmax())
    known = [e for e in table if e["eager_top1"] != ""]
    host_top1 = sum(LABELS[int(e["eager_top1"])] == e["class"] for e in known) / len(known)
    rows = {r["runtime"]: r for r in doc["results"]}
    fp32, int8 = rows["executorch-xnnpack"], rows["executorch-xnnpack-int8"]
    assert fp32["eval_images"] == len(known) and fp32["eval_skipped"] == 12 - len(known)
    assert fp32["top1"] == pytest.approx(host_top1) and fp32["top1_agreement"] == 1.0
    assert int8["top1_agreement"] < 1.0  # the phone's own numbers, not the host's
    assert doc["config"]["android"]["eval"]["images"] == 12
    assert "top-1 on" in captured.out and "labelled images on the phone" in captured.out
    assert "wolf" in captured.err  # its images are skipped, said once
    start = next(c for c in phone.shell_calls() if c.startswith("am start"))
    assert start.endswith("--es eval_dir /data/local/tmp/coordatt/eval")


def test_cli_farm_spec(bench, phone, artifacts, tmp_path, capsys):
    import shlex
    import zipfile

    yaml = pytest.importorskip("yaml")
    apk = tmp_path / "app-debug.apk"
    apk.write_bytes(b"PK\x03\x04")
    farm = tmp_path / "farm"
    code, doc = bench("--farm-spec", str(farm), "--threads", "1,2", "--apk", str(apk))
    assert code == 0 and doc is None  # nothing measured here
    assert phone.calls() == []  # no phone needed
    assert sorted(p.name for p in farm.iterdir()) == [
        "README.md", "app-debug.apk", "coordatt.zip", "manifest.json", "testspec.yml"]
    manifest = json.loads((farm / "manifest.json").read_text())
    spec = yaml.safe_load((farm / "testspec.yml").read_text())
    assert spec["version"] == 0.1 and spec["android_test_host"] == "amazon_linux_2"
    assert list(spec["phases"]) == ["install", "pre_test", "test", "post_test"]
    assert spec["artifacts"] == ["$DEVICEFARM_LOG_DIR"]
    pre, test, post = (spec["phases"][p]["commands"] for p in ("pre_test", "test", "post_test"))
    sha = hashlib.sha256((farm / "coordatt.zip").read_bytes()).hexdigest()
    assert manifest["payload"]["sha256"] == sha and any(sha in c for c in pre)
    for needed in ("am force-stop org.coordatt.demo", "chmod -R o+rX /data/local/tmp/coordatt",
                   "input keyevent KEYCODE_WAKEUP", "wm dismiss-keyguard",
                   "svc power stayon usb"):
        assert any(needed in c for c in pre), needed
    assert [r["threads"] for r in manifest["runs"]] == [1, 2]
    for run in manifest["runs"]:
        settings = RunSettings(iters=4, warmup=0, threads=run["threads"], run_id=run["run_id"])
        command = 'adb -s "$DEVICEFARM_DEVICE_UDID" shell ' + shlex.join(start_command(settings))
        assert command in test and run["am_start"] == shlex.join(start_command(settings))
        (wait,) = [c for c in test if run["run_id"] in c and "while true" in c]
        assert "benchmark_failed.txt" in wait and "benchmark_results.json" in wait
        assert f"benchmark_results_{run['threads']}t.json" in wait
    assert any("logcat -d" in c for c in post) and any("stayon false" in c for c in post)
    with zipfile.ZipFile(farm / "coordatt.zip") as zf:
        names = sorted(zf.namelist())
    assert names == sorted(f"coordatt/{p.name}" for a in artifacts[:-1]
                           for p in android.device.android_files(a))
    readme = (farm / "README.md").read_text()
    assert "COORDATT_PAYLOAD_URL" in readme and manifest["runs"][0]["run_id"] in readme
