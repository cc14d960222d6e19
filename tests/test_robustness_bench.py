"""coordatt-bench as a hostile but honest user runs it (issue 11, the bench side): paths that
are not regular files, bad timeouts, unwritable output folders, charts of odd numbers, file
modes, statistics that contradict their samples, failed runs, Ctrl-C, garbage from adb.

Each probe checks the exit code, a one-line message without a traceback, and what the output
folder holds afterwards (hidden files included). Fast: hand-written --from documents, small
fake adb scripts, the run's shared 64x64 tiny_ca ONNX artifact.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import signal
import stat
import sys
import time
from pathlib import Path

import pytest
from cli_probe import listing, one_line_error
from process_group import process_group

from coordatt.bench import android, report
from coordatt.bench.cli import main
from coordatt.bench.stats import STAT_FIELDS, summarize


@pytest.fixture(autouse=True)
def no_hang():
    """A probe that blocks (a FIFO read, an endless wait) fails instead of hanging the suite."""

    def expired(signum, frame):
        raise TimeoutError("probe hung")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(60)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


def row(model="mobilenetv2_ca", runtime="onnxruntime", samples=(10.0, 11.0, 12.0), **kw):
    samples = list(samples)
    stats = summarize(samples) if samples else dict.fromkeys(STAT_FIELDS)
    base = {"model": model, "width_mult": 1.0, "input_size": [64, 64], "runtime": runtime,
            "precision": "fp32", "threads": 1, "device": "host", "device_info": None,
            "artifact": None, "load_ms": 1.0, "warmup": 1, "iters": len(samples),
            "samples_ms": samples, **stats, "peak_rss_mb": None, "max_abs_diff": None,
            "source": "coordatt-bench", "error": None}  # fmt: skip
    return {**base, **kw}


def results_doc(folder: Path, rows: list[dict]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    doc = {"schema": report.SCHEMA, "machine": {"cpu": "test"}, "config": {}, "results": rows}
    path = folder / "results.json"
    path.write_text(json.dumps(doc))
    return path


# --- hangs: every path is stat-ed before it is read ---------------------------------------


def _not_regular(tmp_path: Path, kind: str) -> Path:
    if kind == "folder":
        (tmp_path / "a_folder").mkdir()
        return tmp_path / "a_folder"
    if kind == "fifo":
        os.mkfifo(tmp_path / "a_fifo")
        return tmp_path / "a_fifo"
    if kind == "chardev":
        return Path("/dev/zero")
    target = _not_regular(tmp_path, kind.removeprefix("link-to-"))
    (tmp_path / "a_link").symlink_to(target)
    return tmp_path / "a_link"


KINDS = ("folder", "fifo", "chardev", "link-to-fifo", "link-to-chardev")


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("flag", ["--from", "--from-device-log", "--weights"])
def test_read_paths_that_are_not_regular_files(tmp_path, capsys, flag, kind):
    bad = _not_regular(tmp_path, kind)
    out = tmp_path / "out"
    extra = ["--models", "mobilenetv2_ca"] if flag == "--weights" else []
    start = time.monotonic()
    code = main([flag, str(bad), *extra, "--output-dir", str(out)])
    assert time.monotonic() - start < 10
    line = one_line_error(capsys.readouterr().err)
    assert code == 2
    assert f"{flag} {bad} is not a regular file" in line or "not a regular file" in line
    assert listing(out) == []


@pytest.mark.parametrize("kind", ["fifo", "chardev", "link-to-fifo"])
def test_artifacts_that_is_not_a_folder(tmp_path, capsys, kind):
    bad = _not_regular(tmp_path, kind)
    code = main(["--artifacts", str(bad), "--output-dir", str(tmp_path / "out")])
    line = one_line_error(capsys.readouterr().err)
    assert code == 2 and f"--artifacts {bad} is not a folder" in line
    assert listing(tmp_path / "out") == []


def test_fifo_sidecar_in_artifacts_is_never_read(tmp_path, capsys):
    folder = tmp_path / "arts"
    folder.mkdir()
    (folder / "m_100_onnx_fp32.onnx").write_bytes(b"x")
    os.mkfifo(folder / "m_100_onnx_fp32.onnx.json")
    code = main(["--artifacts", str(folder), "--output-dir", str(tmp_path / "out")])
    line = one_line_error(capsys.readouterr().err)
    assert code == 2 and "sidecar" in line and "not a regular file (a FIFO)" in line
    assert listing(tmp_path / "out") == []


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "-1", "0", "soon"])
def test_device_timeout_must_be_finite_and_positive(capsys, value):
    with pytest.raises(SystemExit) as e:
        main(["--device", "android", f"--device-timeout={value}"])
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert "--device-timeout must be a finite number of seconds above 0" in err
    assert "Traceback" not in err
    for bad in (math.nan, math.inf, -1.0, 0):
        with pytest.raises(ValueError, match="--device-timeout"):
            android.run_on_device([], timeout_s=bad)


def test_no_message_names_a_timeout_flag_that_does_not_exist():
    bench = Path(android.__file__).parent.parent
    for module in [*sorted((bench / "android").glob("*.py")), bench / "harness.py",
                   bench / "cli.py"]:
        text = module.read_text()
        assert "--timeout" not in text.replace("--device-timeout", ""), module.name


def write_fake_adb(folder: Path, body: str) -> Path:
    """An adb stand-in: a POSIX shell script with one phone, FAKE0001, doing what ``body``
    says for the commands it names (every other command succeeds silently)."""
    folder.mkdir(parents=True, exist_ok=True)
    adb = folder / "adb"
    adb.write_text("#!/bin/sh\n"
                   "if [ \"$1\" = devices ]; then printf 'List of devices attached\\n"
                   "FAKE0001 device usb:1\\n'; exit 0; fi\n"
                   f"{body}\nexit 0\n")  # fmt: skip
    adb.chmod(0o755)
    return adb


@pytest.fixture
def adb_path(monkeypatch):
    def use(folder: Path) -> None:
        monkeypatch.setenv("PATH", f"{folder}{os.pathsep}{os.environ['PATH']}")
        monkeypatch.delenv("ANDROID_HOME", raising=False)

    return use


def fake_artifact(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    art = folder / "m_100_xnnpack_fp32.pte"
    art.write_bytes(b"pte")
    (folder / "m_100_xnnpack_fp32.pte.json").write_text("{}")
    return art


def test_device_timeout_bounds_adb_calls_before_the_wait(tmp_path, adb_path):
    """A push that never ends is cut at --device-timeout, not at its own 300 s."""
    adb_path(tmp_path / "bin")
    write_fake_adb(tmp_path / "bin", 'case "$*" in *push*) sleep 30;; esac')
    start = time.monotonic()
    with pytest.raises(android.AdbTimeout, match="did not answer|--device-timeout"):
        android.run_on_device([fake_artifact(tmp_path / "arts")], timeout_s=1.5)
    assert time.monotonic() - start < 8


def test_adb_garbage_bytes_name_adb_and_what_it_printed(tmp_path, adb_path, capsys):
    adb_path(tmp_path / "bin")
    adb = tmp_path / "bin" / "adb"
    adb.parent.mkdir()
    adb.write_text("#!/bin/sh\nprintf 'List of devices\\n\\377\\376\\375 garbage\\n'\n")
    adb.chmod(0o755)
    code = main(["--device", "android", "--models", "mobilenetv2_ca",
                 "--output-dir", str(tmp_path / "out")])
    line = one_line_error(capsys.readouterr().err)
    assert code == 2
    assert "'adb devices -l' printed bytes that are not text" in line and "garbage" in line
    assert "codec" not in line
    assert listing(tmp_path / "out") == []


# --- lost or unsaved work -----------------------------------------------------------------


@pytest.fixture
def no_measuring(monkeypatch):
    """Fail the probe if bench starts measuring (or exporting)."""
    from coordatt.bench import harness

    def refuse(*args, **kwargs):
        raise AssertionError("measured before checking the output folder")

    monkeypatch.setattr(harness, "run_benchmark", refuse)
    monkeypatch.setattr(harness, "run_on_android", refuse)


@pytest.mark.parametrize("where", ["a-file", "under-a-file", "results.json-is-a-folder",
                                   "profile.json-is-a-folder"])
def test_unwritable_output_dir_is_refused_before_measuring(tmp_path, capsys, no_measuring,
                                                           where):
    blocker = tmp_path / "plain_file"
    blocker.write_text("mine")
    out = {"a-file": blocker, "under-a-file": blocker / "sub" / "out"}.get(where, tmp_path / "out")
    if where.endswith("-is-a-folder"):
        (out / where.split("-is-")[0]).mkdir(parents=True)
    before = listing(tmp_path)
    profile = ["--profile"] if where.startswith("profile") else []
    code = main(["--models", "mobilenetv2_ca", "--output-dir", str(out), *profile])
    line = one_line_error(capsys.readouterr().err)
    assert code == 2 and f"--output-dir {out}" in line
    assert listing(tmp_path) == before and blocker.read_text() == "mine"


def test_results_saved_elsewhere_when_the_folder_fails_after_measuring(tmp_path, capsys,
                                                                       monkeypatch):
    source = results_doc(tmp_path / "in", [row()])
    out = tmp_path / "out"
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    real = report._atomic_write

    def disk_full(path, data):
        if Path(path).parent == out:
            raise OSError(28, "No space left on device")
        real(path, data)

    monkeypatch.setattr(report, "_atomic_write", disk_full)
    code = main(["--from", str(source), "--output-dir", str(out)])
    err = capsys.readouterr().err
    line = one_line_error(err)
    assert code == 1 and "No space left on device" in line and "saved them to" in line
    (saved,) = (tmp_path / "tmp").iterdir()
    assert str(saved) in line
    assert report.load_results(saved / "results.json")["results"][0]["samples_ms"] == \
        [10.0, 11.0, 12.0]
    assert listing(out) == []  # no half-written or temporary file left behind


@pytest.mark.parametrize("samples", [[0.0, 0.0, 0.0], [0.0, 1.0, 2.0], [1e300, 2e300, 3e300]])
def test_chart_never_crashes_nor_goes_stale(tmp_path, capsys, samples):
    out = tmp_path / "out"
    source = results_doc(tmp_path / "in", [row(runtime="eager", samples=samples),
                                           row(model="mobilenetv2", runtime="eager",
                                               samples=samples), row()])
    out.mkdir()
    (out / "results.png").write_bytes(b"stale chart of an earlier run")
    code = main(["--from", str(source), "--output-dir", str(out)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "Traceback" not in captured.err
    doc = report.load_results(out / "results.json")
    assert doc["results"][0]["samples_ms"] == samples
    png = out / "results.png"
    if captured.err:  # not drawn: one note, and no stale chart beside the new numbers
        one_line_error(captured.err, "note: results.png not written")
        assert not png.exists()
    else:
        assert png.read_bytes()[:4] == b"\x89PNG"
    assert [n for n in listing(out) if n.startswith(".")] == []


def test_zero_ms_device_log_iterations(tmp_path, capsys):
    log = tmp_path / "runner.txt"
    log.write_text("".join(f"Iteration {i}: 0 ms\n" for i in range(5)))
    out = tmp_path / "out"
    code = main(["--from-device-log", str(log), "--models", "mobilenetv2_ca",
                 "--output-dir", str(out)])
    err = capsys.readouterr().err
    assert code == 0 and "Traceback" not in err
    assert {"results.json", "results.csv"} <= set(listing(out))


def test_zero_and_negative_statistics(tmp_path, capsys):
    zero = row(model="mobilenetv2", samples=[0.0, 0.0])
    source = results_doc(tmp_path / "in", [zero, row(model="mobilenetv2_ca")])
    assert main(["--from", str(source), "--output-dir", str(tmp_path / "a")]) == 0
    assert "Traceback" not in capsys.readouterr().err
    bad = row(samples=[], median_ms=-1.0, mean_ms=-1.0)
    source = results_doc(tmp_path / "in2", [bad])
    assert main(["--from", str(source), "--output-dir", str(tmp_path / "b")]) == 2
    line = one_line_error(capsys.readouterr().err)
    assert "results[0] (mobilenetv2_ca / onnxruntime)" in line
    assert listing(tmp_path / "b") == []


def test_output_files_keep_the_umask_mode(tmp_path, capsys):
    source = results_doc(tmp_path / "in", [row()])
    old = os.umask(0o022)
    try:
        assert main(["--from", str(source), "--output-dir", str(tmp_path / "out")]) == 0
        for name in ("results.json", "results.csv", "results.png"):
            assert stat.S_IMODE((tmp_path / "out" / name).stat().st_mode) == 0o644, name
        source.chmod(0o640)  # --from rewrites its own file: the mode it had stays
        assert main(["--from", str(source)]) == 0
        assert stat.S_IMODE(source.stat().st_mode) == 0o640
    finally:
        os.umask(old)
    capsys.readouterr()


# --- numbers that cannot be trusted -------------------------------------------------------


def test_from_recomputes_statistics_that_contradict_samples(tmp_path, capsys):
    lying = row(median_ms=1.0, p90_ms=1.0)  # samples say 11 and 11.8
    source = results_doc(tmp_path / "in", [lying])
    out = tmp_path / "out"
    assert main(["--from", str(source), "--output-dir", str(out)]) == 0
    line = one_line_error(capsys.readouterr().err, "note: ")
    assert "results[0] (mobilenetv2_ca / onnxruntime)" in line and "median_ms" in line
    fixed = report.load_results(out / "results.json")["results"][0]
    assert fixed["median_ms"] == 11.0 and fixed["p90_ms"] == pytest.approx(11.8)
    assert "recomputed" in fixed["note"]


def _fake_run(monkeypatch, rows):
    from coordatt.bench import harness

    monkeypatch.setattr(harness, "run_benchmark", lambda *a, **k: (rows, {}))


def test_every_row_failed_exits_1(tmp_path, capsys, monkeypatch):
    _fake_run(monkeypatch, [row(samples=[], error="RuntimeError: bad program"),
                            row(runtime="eager", samples=[], error="cannot rebuild it")])
    out = tmp_path / "out"
    code = main(["--models", "mobilenetv2_ca", "--output-dir", str(out)])
    captured = capsys.readouterr()
    assert code == 1
    one_line_error(captured.err, "error: no row was measured")
    assert "error: RuntimeError: bad program" in captured.out
    assert "error: cannot rebuild it" in captured.out
    assert {"results.json", "results.csv"} <= set(listing(out))  # the failures are recorded


def test_some_rows_failed_exits_0_with_the_failures_shown(tmp_path, capsys, monkeypatch):
    _fake_run(monkeypatch, [row(samples=[], error="RuntimeError: bad program"), row("eager")])
    code = main(["--models", "mobilenetv2_ca", "--output-dir", str(tmp_path / "out")])
    captured = capsys.readouterr()
    assert code == 0
    one_line_error(captured.err, "note: 1 of 2 rows failed")
    assert "error: RuntimeError: bad program" in captured.out


# --- messages: Ctrl-C and small ones ------------------------------------------------------


def test_ctrl_c_during_imports_and_parsing(tmp_path, capsys, monkeypatch):
    from coordatt.bench import cli

    def interrupted():
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "build_parser", interrupted)
    assert main(["--models", "mobilenetv2_ca", "--output-dir", str(tmp_path / "out")]) == 130
    one_line_error(capsys.readouterr().err, "interrupted: nothing was measured")
    assert listing(tmp_path / "out") == []


def test_ctrl_c_during_automatic_export(tiny_model, tmp_path, capsys, monkeypatch):
    from coordatt.bench import subjects

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(subjects, "export", interrupted)
    out = tmp_path / "out"
    code = main(["--models", "tiny_ca", "--runtimes", "onnxruntime", "--input-size",
                 "64", "--artifacts", str(tmp_path / "arts"), "--output-dir", str(out)])
    assert code == 130
    one_line_error(capsys.readouterr().err, "interrupted: nothing was measured")
    assert listing(out) == []


def test_runtimes_empty_lists_runtimes(capsys):
    assert main(["--runtimes", ""]) == 2
    line = one_line_error(capsys.readouterr().err)
    assert "executorch-xnnpack" in line and "mobilenetv2" not in line


# --- one real network: a 64x64 CA net as ONNX (the run's shared export) --------------------


@pytest.fixture(scope="module")
def tiny_onnx(tiny_artifacts, tmp_path_factory):
    """conftest's 3-block CA network 'tiny_ca' as a 64x64 fp32 ONNX artifact (a copy of the
    run's shared export, so a probe may change it)."""
    from artifact_cache import copy_artifacts

    folder = copy_artifacts(tiny_artifacts, tmp_path_factory.mktemp("robust_artifacts"),
                            keep=lambda name: name.endswith("_onnx_fp32_64x64.onnx"))
    (artifact,) = folder.glob("*.onnx")
    return artifact


def _copy(artifact: Path, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(artifact, folder / artifact.name)
    shutil.copy(f"{artifact}.json", folder / f"{artifact.name}.json")
    return folder / artifact.name


def test_sidecar_fields_checked_against_the_artifact(tiny_onnx):
    from coordatt.bench.subjects import check_artifact
    from coordatt.errors import CoordattError

    sidecar = json.loads(Path(f"{tiny_onnx}.json").read_text())
    check_artifact(tiny_onnx, sidecar, runtime="onnxruntime")  # as exported: fine
    lying = {**sidecar, "precision": "int8"}
    with pytest.raises(CoordattError, match="onnxruntime runs onnx/onnx/fp32"):
        check_artifact(tiny_onnx, lying, runtime="onnxruntime")
    bigger = json.loads(json.dumps(sidecar))
    bigger["input"]["shape"] = [1, 3, 96, 96]
    bigger["identity"]["input_size"] = [96, 96]
    with pytest.raises(CoordattError, match=r"its graph's input is \[1, 3, 64, 64\]"):
        check_artifact(tiny_onnx, bigger)
    other = json.loads(json.dumps(sidecar))
    other["preprocess"] = {**other["preprocess"], "crop_pct": 0.5}
    with pytest.raises(CoordattError, match="preprocess differs"):
        check_artifact(tiny_onnx, other)


def test_real_run_fifo_artifact_and_all_failed(tiny_onnx, tmp_path, capsys):
    arts = tmp_path / "arts"
    art = _copy(tiny_onnx, arts)
    out = tmp_path / "out"
    common = ["--artifacts", str(arts), "--runtimes", "onnxruntime", "--iters", "2",
              "--warmup", "0", "--block-size", "2", "--output-dir", str(out)]
    assert main(common) == 0, capsys.readouterr().err
    doc = report.load_results(out / "results.json")
    assert len(doc["results"][0]["samples_ms"]) == 2
    assert "as each artifact's sidecar says" in doc["config"]["input"]
    first_chart = (out / "results.png").read_bytes()
    capsys.readouterr()
    art.unlink()
    os.mkfifo(art)  # an artifact that would block its reader: a row's error, never read
    assert main(common) == 1
    captured = capsys.readouterr()
    one_line_error(captured.err, "error: no row was measured")
    assert "is not a regular file (a FIFO)" in captured.out
    # the chart is redrawn (the row marked failed), not the earlier run's left in place
    assert listing(out) == ["results.csv", "results.json", "results.png"]
    assert (out / "results.png").read_bytes() != first_chart


def test_no_artifact_for_the_runtimes_keeps_earlier_results(tiny_onnx, tmp_path, capsys):
    """Artifacts found, none for the runtimes asked: exit 2 before writing, never an empty
    results.json over an earlier run's."""
    arts = tmp_path / "arts"
    _copy(tiny_onnx, arts)
    out = tmp_path / "out"
    earlier = results_doc(out, [row()]).read_bytes()
    code = main(["--artifacts", str(arts), "--runtimes", "executorch-xnnpack", "--iters", "2",
                 "--output-dir", str(out)])
    line = one_line_error(capsys.readouterr().err)
    assert code == 2 and "holds no artifact for --runtimes executorch-xnnpack" in line
    assert listing(out) == ["results.json"] and (out / "results.json").read_bytes() == earlier


def test_ctrl_c_while_a_worker_starts_keeps_what_was_measured(tiny_onnx, tmp_path, capsys,
                                                                monkeypatch):
    from coordatt.bench import harness

    class Interrupting:
        def __init__(self, spec, *args, **kwargs):
            raise KeyboardInterrupt

    monkeypatch.setattr(harness, "Worker", Interrupting)
    arts = tmp_path / "arts"
    _copy(tiny_onnx, arts)
    out = tmp_path / "out"
    code = main(["--artifacts", str(arts), "--runtimes", "onnxruntime", "--iters", "2",
                 "--output-dir", str(out)])
    captured = capsys.readouterr()
    assert code == 130
    one_line_error(captured.err, "interrupted: what was measured is kept")
    doc = report.load_results(out / "results.json")
    assert doc["results"][0]["error"].startswith("interrupted after 0 of 2 runs")


def test_ctrl_c_during_the_device_wait(tiny_onnx, tmp_path, capsys, monkeypatch):
    fake = Path(__file__).parent / "fake_adb"
    monkeypatch.setenv("PATH", os.pathsep.join([str(fake), str(Path(sys.executable).parent),
                                                os.environ["PATH"]]))
    monkeypatch.setenv("FAKE_ADB_ROOT", str(tmp_path / "phone"))
    monkeypatch.setenv("FAKE_ADB_MODE", "no-result")
    monkeypatch.delenv("ANDROID_HOME", raising=False)
    (tmp_path / "phone").mkdir()

    def interrupted(seconds):
        raise KeyboardInterrupt

    monkeypatch.setattr(android.run.time, "sleep", interrupted)
    arts = tmp_path / "arts"
    _copy(tiny_onnx, arts)
    out = tmp_path / "out"
    code = main(["--device", "android", "--artifacts", str(arts), "--runtimes", "onnxruntime",
                 "--output-dir", str(out)])
    assert code == 130
    one_line_error(capsys.readouterr().err, "interrupted: nothing was measured")
    assert listing(out) == []


@pytest.mark.parametrize("moment", ["loading", "measuring"])
def test_real_ctrl_c_from_the_terminal(tiny_onnx, tmp_path, moment):
    """SIGINT to the whole process group, as a terminal sends it: the workers ignore it, the
    harness ends them, one line, exit 130, what was measured written."""
    import subprocess
    import threading

    arts = tmp_path / "arts"
    _copy(tiny_onnx, arts)
    out = tmp_path / "out"
    args = [sys.executable, "-m", "coordatt.bench.cli", "--artifacts", str(arts), "--runtimes",
            "onnxruntime", "--iters", "1000000", "--block-size", "5", "--warmup", "0",
            "--output-dir", str(out)]
    # the group (harness and its workers, 1e6 iterations) is killed whatever happens
    with process_group(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                       terminal_sigint=True) as proc:
        guard = threading.Timer(120, lambda: os.killpg(proc.pid, signal.SIGKILL))
        guard.start()  # never waited on without bound
        try:
            lines = []
            for line in proc.stderr:
                lines.append(line)
                if line.strip().startswith(moment):
                    break
            time.sleep(1.0 if moment == "measuring" else 0.0)
            os.killpg(proc.pid, signal.SIGINT)
            lines += proc.stderr.readlines()
            assert proc.wait(30) == 130
        finally:
            guard.cancel()
    one_line_error("".join(lines), "interrupted: what was measured is kept")
    (result,) = report.load_results(out / "results.json")["results"]
    assert result["error"].startswith("interrupted after")
    if moment == "measuring":
        assert result["samples_ms"]
    assert [n for n in listing(out) if n.startswith(".")] == []
