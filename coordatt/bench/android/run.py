"""One benchmark run of the demo app on one phone, as docs/formats.md ("Android benchmark run")
and android_demo's BenchmarkActivity agree.

The flow mirrors ExecuTorch's Android benchmark app (minibench) and its device-farm jobs, made
safe to trust: force-stop the app, push the models (artifact, sidecar, check file) to
``/data/local/tmp/coordatt`` and make them readable to the app, wake the phone and keep its
screen on, start ``BenchmarkActivity`` with ``am start -S -W`` and the run's settings as intent
extras (a fresh ``run_id`` among them), then read ``files/benchmark_results.json`` back with
``run-as`` (the demo app is a debug build) -- only when it carries this run's ``run_id``. The
app writes ``files/benchmark_failed.txt`` when it gives up; the wait ends there too.
"""

from __future__ import annotations

import json
import logging
import subprocess
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from coordatt.bench.device_logs import DeviceLogError, parse_device_log
from coordatt.bench.report import SCHEMA, validate_results

from .adb import (
    AdbTimeout,
    AppCrashed,
    AppFailed,
    AppNotInstalled,
    ArtifactError,
    NoDevice,
    NoResult,
    StaleResult,
    _last_line,
    check_timeout,
)
from .device import PACKAGE, REMOTE_DIR, AndroidDevice, select_device

log = logging.getLogger(__name__)

ACTIVITY = ".BenchmarkActivity"
RESULT_FILE = "files/benchmark_results.json"
PARTIAL_FILE = "files/benchmark_results.partial.json"  # the app's rows so far, if it dies
FAILED_FILE = "files/benchmark_failed.txt"  # the app gave up; its one line says why
MAX_ROUNDS = 10
THREADS_ZERO = ("threads=0 is refused on a phone: ExecuTorch reads 0 as half the cores and ONNX "
                "Runtime as its own default, so 0 has no single meaning; give a count >= 1")


class Interrupted(KeyboardInterrupt):
    """Ctrl-C during a phone's runs; ``rows`` holds the thread counts finished before it."""

    def __init__(self, rows: list[dict[str, Any]]):
        super().__init__()
        self.rows = rows


def default_rounds(iters: int) -> int:
    """Blocks per artifact when not given: one per 10 timed runs, 1 to 10 (as the app's)."""
    return min(MAX_ROUNDS, max(1, iters // 10))


@dataclass(frozen=True)
class RunSettings:
    """The intent extras of one app run (docs/formats.md, "Android benchmark run")."""

    iters: int = 50
    warmup: int = 10
    threads: int = 1
    rounds: int | None = None  # None: default_rounds(iters)
    cooldown_ms: int = 0  # sleep between blocks
    runtimes: tuple[str, ...] | None = None  # None: every runtime that can run a pushed file
    eval_dir: str | None = None  # on the phone: images + eval_labels.csv
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex)

    def validate(self) -> None:
        """ValueError naming the setting and what it must be."""
        if self.threads == 0 and not isinstance(self.threads, bool):
            raise ValueError(THREADS_ZERO)
        for name, value, least in (("iters", self.iters, 1), ("warmup", self.warmup, 0),
                                   ("threads", self.threads, 1), ("cooldown_ms",
                                                                  self.cooldown_ms, 0)):
            if isinstance(value, bool) or not isinstance(value, int) or value < least:
                raise ValueError(f"{name}={value!r}: must be an integer >= {least}")
        rounds = self.block_rounds
        if isinstance(rounds, bool) or not isinstance(rounds, int) or \
                not 1 <= rounds <= self.iters:
            raise ValueError(f"rounds={rounds!r}: must be an integer from 1 to iters "
                             f"({self.iters})")

    @property
    def block_rounds(self) -> int:
        return default_rounds(self.iters) if self.rounds is None else self.rounds

    def extras(self, model_dir: str = REMOTE_DIR) -> list[str]:
        """``am start`` intent extras, in the order docs/formats.md lists them."""
        extras = ["--es", "model_dir", model_dir, "--es", "run_id", self.run_id,
                  "--ei", "iters", str(self.iters), "--ei", "warmup", str(self.warmup),
                  "--ei", "threads", str(self.threads), "--ei", "rounds", str(self.block_rounds),
                  "--ei", "cooldown_ms", str(self.cooldown_ms)]
        if self.runtimes:
            extras += ["--es", "runtimes", ",".join(self.runtimes)]
        if self.eval_dir:
            extras += ["--es", "eval_dir", self.eval_dir]
        return extras


def start_command(settings: RunSettings, package: str = PACKAGE,
                  model_dir: str = REMOTE_DIR) -> list[str]:
    """The shell command that starts one run (also written into device-farm specs)."""
    return ["am", "start", "-S", "-W", "-n", f"{package}/{ACTIVITY}",
            *settings.extras(model_dir)]


def run_benchmark(device: AndroidDevice, settings: RunSettings, *, package: str = PACKAGE,
                  model_dir: str = REMOTE_DIR, timeout_s: float = 600.0,
                  poll_s: float = 0.25) -> list[dict[str, Any]]:
    """Start BenchmarkActivity on ``model_dir`` and return this run's rows once it has written
    them. The timeout covers the whole run, adb calls too."""
    settings.validate()
    check_timeout(timeout_s)
    deadline = time.monotonic() + timeout_s

    def left() -> float:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise AdbTimeout(f"the benchmark did not finish within {timeout_s:g} s: raise "
                             "--device-timeout or lower --iters", device.logcat_tail())
        return min(device.call_timeout_s, remaining)

    # the app deletes them too; a result left by an earlier run is never read as this run's
    cleared = device.shell("run-as", package, "rm", "-f", RESULT_FILE, PARTIAL_FILE, FAILED_FILE,
                           timeout_s=left(), check=False)
    if cleared.returncode != 0:
        raise AppNotInstalled(f"'run-as {package}' failed ({_last_line(cleared)}): install "
                              "the debug build of the demo app (--apk)")
    device.adb_call("logcat", "-c", timeout_s=left(), check=False)
    component = f"{package}/{ACTIVITY}"
    started = device.shell(*start_command(settings, package, model_dir), timeout_s=left(),
                           check=False)
    output = started.stdout + started.stderr
    if "Error" in output or "Exception" in output or started.returncode != 0:
        bad = next((ln for ln in output.splitlines() if "Error" in ln or "Exception" in ln),
                   _last_line(started))
        raise AppCrashed(f"could not start {component} ({bad.strip()}); install the demo "
                         "app (--apk) and check the activity name", device.logcat_tail())

    stale: list[str] = []  # what a results file of another run said

    def waited_out() -> NoResult:
        if stale:
            return StaleResult(stale[-1], device.logcat_tail())
        return NoResult(f"{package} is running but wrote no readable {RESULT_FILE} within "
                        f"{timeout_s:g} s: raise --device-timeout or check the app log",
                        device.logcat_tail())

    def poll(*args: str) -> subprocess.CompletedProcess[str]:
        # a poll near the deadline still gets a fair second to answer; the loop below, not
        # this call, decides when waiting is over (NoResult)
        remaining = max(deadline - time.monotonic(), 1.0)
        try:
            return device.shell(*args, timeout_s=min(device.call_timeout_s, remaining),
                                check=False)
        except AdbTimeout:
            if device.deadline is not None and device.deadline - time.monotonic() <= poll_s:
                raise waited_out() from None  # the whole run's deadline, not this call's
            raise

    def read(name: str) -> list[dict[str, Any]] | None:
        doc = _document(poll("run-as", package, "cat", name), name)
        if doc is None:
            return None
        found = (doc[0].get("config") or {}).get("run_id")
        if found != settings.run_id:
            stale.append(f"refused {name}: its run_id {found!r} is not this run's "
                         f"{settings.run_id!r} (a file of an earlier run, or an app too old "
                         "to write run_id: install the current one with --apk)")
            return None
        rows = tag_rows(device, doc[1])
        try:  # a row results.json cannot hold is the app's mistake, said now, in one line
            validate_results({"schema": SCHEMA, "machine": {}, "config": {}, "results": rows})
        except ValueError as e:
            raise NoResult(f"the app wrote a {name} coordatt cannot use ({e}); update the app "
                           "or coordatt so their schemas match") from None
        return rows

    def gave_up() -> None:
        failed = poll("run-as", package, "cat", FAILED_FILE)
        if failed.returncode == 0:
            # "run_id <id>" then the reason; another run's file is not this run's failure
            lines = failed.stdout.strip().splitlines()
            if lines and lines[0].startswith("run_id "):
                if lines[0].split(maxsplit=1)[1:] != [settings.run_id]:
                    return
                lines = lines[1:]
            reason = " ".join(" ".join(lines).split())[:200] or "no reason given"
            finished = _partial(read)
            raise AppFailed(f"the app gave up: {reason} ({len(finished)} row(s) finished "
                            "first)", device.logcat_tail(), rows=finished)

    while True:
        if (rows := read(RESULT_FILE)) is not None:
            return rows
        gave_up()
        pidof = poll("pidof", package)
        if _disconnected(pidof):
            raise NoDevice(f"{device.serial} disconnected during the run "
                           f"({_last_line(pidof)}): check the cable and the phone, then retry")
        alive = pidof.stdout.strip()
        if not alive:
            if (rows := read(RESULT_FILE)) is not None:  # written just before it exited
                return rows
            gave_up()
            if stale:
                raise StaleResult(stale[-1], device.logcat_tail())
            finished = _partial(read)
            raise AppCrashed(f"{package} died before writing {RESULT_FILE} ({len(finished)} "
                             "row(s) finished first): fix the crash shown in logcat below",
                             device.logcat_tail(), rows=finished)
        if deadline - time.monotonic() <= poll_s:
            raise waited_out()
        time.sleep(poll_s)


def _disconnected(result: subprocess.CompletedProcess[str]) -> bool:
    """adb's own words for a phone that is gone (pidof alone exits 1 without a word)."""
    text = result.stderr.lower()
    return result.returncode != 0 and "device" in text and \
        any(word in text for word in ("not found", "offline", "no devices"))


def _partial(read: Callable[[str], list | None]) -> list[dict[str, Any]]:
    try:
        return read(PARTIAL_FILE) or []
    except NoResult:
        return []


def _document(result: subprocess.CompletedProcess[str], name: str
              ) -> tuple[dict[str, Any], list[dict[str, Any]]] | None:
    """(document, rows) when the file is complete; None while absent or half-written."""
    if result.returncode != 0 or not result.stdout.strip():
        return None
    try:
        data = json.loads(result.stdout)
    except json.JSONDecodeError:
        return None
    try:
        return data, parse_device_log(result.stdout, fmt="coordatt")
    except DeviceLogError as e:
        raise NoResult(f"the app wrote an unreadable {name} ({e}); update the app or coordatt "
                       "so their schemas match") from e


def tag_rows(device: AndroidDevice, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The phone's model, serial and getprop facts on every row; a failed check is flagged."""
    info = device.device_info()
    for row in rows:
        # what the app itself knew wins; getprop fills its gaps
        from_app = {k: v for k, v in (row.get("device_info") or {}).items() if v is not None}
        merged = {key: info[key] for key in ("soc", "abi", "android")} | from_app
        merged.setdefault("runtimes", {})
        row["device"] = info["model"]
        row["device_info"] = merged
        row["device_serial"] = device.serial
        row["source"] = "android-app"
        row["peak_rss_mb"] = None  # whole-process PSS is not this artifact's: see "memory"
        if row.get("runtime") is None:  # the app could not read its sidecar: an error row
            row["runtime"] = "unknown"
            row["error"] = row.get("error") or "the app named no runtime for this artifact"
        check = row.get("check")
        if isinstance(check, dict) and check.get("status") in ("failed", "error") and \
                not row.get("flagged"):
            # never shown as a plain result, whatever the app wrote (error: not verifiable)
            row["flagged"] = "check failed: " + str(check.get("message") or "see check")
        row.setdefault("flagged", None)
    return rows


def run_on_device(
    artifacts: list[Path],
    *,
    serial: str | None = None,
    apk: Path | None = None,
    settings: RunSettings | list[RunSettings] | None = None,
    eval_folder: Path | None = None,
    timeout_s: float = 600.0,
    package: str = PACKAGE,
    remote_dir: str = REMOTE_DIR,
    notice: Callable[[str], None] = log.warning,
) -> list[dict[str, Any]]:
    """Select the phone, install ``apk`` if given, push ``artifacts`` (and ``eval_folder``),
    then one app run per settings (a thread count each), and return the rows.

    ``timeout_s`` bounds all of it: every adb call (selection, install, push, start, polls)
    and the waits for the app's results. The entry point for ``coordatt-bench --device
    android`` on one phone; Ctrl-C raises :class:`Interrupted` with the runs finished before.
    """
    runs = [settings or RunSettings()] if not isinstance(settings, list) else settings
    for run in runs:
        run.validate()
    check_timeout(timeout_s)
    deadline = time.monotonic() + timeout_s
    device = select_device(serial, timeout_s=min(15.0, timeout_s))
    device.deadline = deadline
    if apk is not None:
        device.install_apk(apk)
    device.force_stop(package)
    pushed = device.push_artifacts(list(artifacts), remote_dir)
    if not pushed:
        raise ArtifactError("no .pte, .onnx or .tflite artifact to run on Android; export one "
                            "with coordatt-export --format pte (or onnx, tflite)")
    remote_eval = device.push_folder(eval_folder, remote_dir) if eval_folder else None
    device.make_readable(remote_dir)
    rows: list[dict[str, Any]] = []
    try:
        with device.awake():
            for note in device.notes:
                notice(note)
            for run in runs:
                if remote_eval:
                    run = replace(run, eval_dir=remote_eval)
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AdbTimeout(f"the device run did not finish within --device-timeout "
                                     f"{timeout_s:g} s (before {run.threads} thread(s)); "
                                     "raise it")
                rows += run_benchmark(device, run, package=package, model_dir=remote_dir,
                                      timeout_s=left)
    except KeyboardInterrupt:
        raise Interrupted(rows) from None
    return rows
