"""``coordatt-bench --device android`` on fake phones (tests/fake_adb): several phones in
parallel, a phone that vanishes, is slow, unauthorised or absent, flagged checks, a hot phone,
evaluation on the phone, and the AWS Device Farm job."""

import hashlib
import json
import os
import time

import pytest
from fake_adb import phones
from fake_adb.phones import LABELS, PREPROCESS, RUNTIMES

from coordatt.bench import android
from coordatt.bench.android import RunSettings, start_command


@pytest.fixture
def phone(tmp_path, monkeypatch) -> phones.FakePhones:
    return phones.make_phone(tmp_path, monkeypatch)


@pytest.fixture
def artifacts(tmp_path) -> list:
    return phones.make_artifacts(tmp_path)


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
    assert doc["config"]["block_size"] == 2 and "on the phone" in doc["config"]["input"]
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
    assert doc["config"]["eval"]["images"] == 12 and doc["config"]["eval"]["limit"] == 12
    assert "top-1 on" in captured.out and "labelled images on the phone" in captured.out
    assert "wolf" in captured.err  # its images are skipped, said once
    start = next(c for c in phone.shell_calls() if c.startswith("am start"))
    assert start.endswith("--es eval_dir /data/local/tmp/coordatt/eval")


def test_cli_farm_spec(bench, phone, artifacts, tmp_path, capsys):
    import shlex
    import zipfile

    import yaml  # the dev extra installs PyYAML: never skipped
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


@pytest.mark.parametrize("mode", ["ok", "failed"])
def test_farm_spec_runs_against_the_fake_phone(phone, artifacts, tmp_path, monkeypatch, mode):
    """Every command of the spec, in bash as on Device Farm's host, against the fake phone."""
    import shutil
    import subprocess

    import yaml  # the dev extra installs PyYAML: never skipped
    for tool in ("bash", "curl", "unzip", "sha256sum"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed")
    from coordatt.bench.android.devicefarm import write_farm_job

    run = RunSettings(iters=4, warmup=0, threads=2)
    written = write_farm_job(tmp_path / "farm", artifacts, [run], timeout_s=20)
    spec = yaml.safe_load(written["spec"].read_text())
    logs, work = tmp_path / "logs", tmp_path / "host"
    logs.mkdir()
    work.mkdir()
    phone.mode(mode)
    monkeypatch.setenv("FAKE_ADB_DELAY_S", "0")
    env = {**os.environ, "DEVICEFARM_DEVICE_UDID": "FAKE0001", "DEVICEFARM_LOG_DIR": str(logs),
           "COORDATT_PAYLOAD_URL": written["payload"].resolve().as_uri()}
    failed = []
    for phase in ("install", "pre_test", "test", "post_test"):
        for command in spec["phases"][phase]["commands"]:
            done = subprocess.run(["bash", "-c", command], cwd=work, env=env, timeout=60,
                                  capture_output=True, text=True)
            if done.returncode != 0:
                failed.append((phase, done.stdout + done.stderr))
    pushed = phone.storage() / "data/local/tmp/coordatt"
    assert sorted(p.name for p in pushed.iterdir()) == sorted(
        p.name for a in artifacts[:-1] for p in android.device.android_files(a))
    assert phone.state("chmod") == "/data/local/tmp/coordatt"
    assert phone.state("stay_on") == "0"  # post_test put the screen setting back
    assert (logs / "logcat.txt").exists() and (logs / "getprop.txt").exists()
    if mode == "failed":  # the test phase fails with the app's reason, at once
        ((phase, text),) = failed
        assert phase == "test" and "the app gave up: final write failed: ENOSPC" in text
        return
    assert failed == []
    doc = json.loads((logs / "benchmark_results_2t.json").read_text())
    assert doc["config"]["run_id"] == run.run_id and doc["config"]["threads"] == 2
    assert sorted(r["runtime"] for r in doc["results"]) == RUNTIMES
