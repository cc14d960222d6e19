"""Run the demo app's benchmark mode on an Android phone over adb and collect its result rows.

The flow mirrors ExecuTorch's Android benchmark app (minibench): push the models to
``/data/local/tmp``, start ``BenchmarkActivity`` with the run settings as intent extras, then
read ``files/benchmark_results.json`` back with ``run-as`` (the demo app is a debug build). The
app writes rows in our own schema (docs/formats.md); they are read with
:func:`coordatt.bench.device_logs.parse_device_log`.

Every adb call has a timeout and every failure is an :class:`AdbError` subclass whose message
is one line saying what to do; logcat lines, when useful, follow as ``details``.
"""

from __future__ import annotations

import json
import logging
import math
import os
import re
import shlex
import shutil
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

from coordatt.bench.device_logs import DeviceLogError, parse_device_log

log = logging.getLogger(__name__)

REMOTE_DIR = "/data/local/tmp/coordatt"
PACKAGE = "org.coordatt.demo"
ACTIVITY = ".BenchmarkActivity"
RESULT_FILE = "files/benchmark_results.json"
PARTIAL_FILE = "files/benchmark_results.partial.json"  # the app's rows so far, if it dies
ANDROID_FORMATS = (".pte", ".onnx")  # what the app can run; .mlpackage is for Apple devices
LOGCAT_LINES = 15
# what `adb devices` may say of a phone (adb's ConnectionState names)
DEVICE_STATES = ("device", "unauthorized", "no permissions", "offline", "bootloader", "recovery",
                 "sideload", "rescue", "host", "authorizing", "connecting", "detached", "unknown")


class AdbError(RuntimeError):
    """Base of every error of the adb driver: a one-line message, then optional details."""

    def __init__(self, message: str, details: list[str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = list(details or [])

    def __str__(self) -> str:
        if not self.details:
            return self.message
        return "\n".join([self.message, *(f"  | {line}" for line in self.details)])


class AdbNotFound(AdbError):
    """No adb executable on PATH or under $ANDROID_HOME."""


class AdbTimeout(AdbError):
    """An adb call or the whole benchmark did not finish in time."""


class AdbCommandFailed(AdbError):
    """adb exited with an error."""


class NoDevice(AdbError):
    """No phone (or not the requested one) is connected."""


class DeviceUnauthorized(AdbError):
    """The phone has not accepted this computer's RSA key."""


class MultipleDevices(AdbError):
    """Several phones are connected and none was chosen."""


class ArtifactError(AdbError):
    """An artifact that cannot be pushed: missing, no sidecar, or not an Android format."""


class InstallFailed(AdbError):
    """``adb install`` did not report Success."""


class AppNotInstalled(AdbError):
    """The demo app is missing, or is a release build that run-as cannot enter."""


class AppCrashed(AdbError):
    """The benchmark activity failed to start or its process died before writing results.

    ``rows`` holds the rows the app finished before it died (from its partial file), if any.
    """

    def __init__(
        self, message: str, details: list[str] | None = None, rows: list | None = None
    ) -> None:
        super().__init__(message, details)
        self.rows: list[dict[str, Any]] = list(rows or [])


class NoResult(AdbError):
    """The app ran but no readable result file appeared before the timeout."""


def find_adb() -> Path:
    """The adb executable: PATH first, then $ANDROID_HOME (or $ANDROID_SDK_ROOT)/platform-tools."""
    found = shutil.which("adb")
    if found:
        return Path(found)
    for var in ("ANDROID_HOME", "ANDROID_SDK_ROOT"):
        root = os.environ.get(var)
        if root:
            candidate = Path(root) / "platform-tools" / ("adb.exe" if os.name == "nt" else "adb")
            if candidate.is_file() and os.access(candidate, os.X_OK):
                return candidate
    raise AdbNotFound(
        "adb not found: install Android SDK platform-tools and put adb on PATH "
        "(or set ANDROID_HOME)"
    )


def _adb_words(args: list[str]) -> str:
    command = args[2:] if args[:1] == ["-s"] else args
    return " ".join([*command[:1], *" ".join(command[1:]).split()[:2]])


def _run_adb(
    adb: Path, args: list[str], timeout_s: float, *, lenient: bool = False
) -> subprocess.CompletedProcess[str]:
    """Run adb; its output must be UTF-8 text unless ``lenient`` (logcat: apps log any bytes),
    where undecodable bytes become U+FFFD."""
    if not math.isfinite(timeout_s):
        raise ValueError(f"adb timeout must be a finite number of seconds, got {timeout_s!r}")
    what = _adb_words(args)
    try:
        # its own session: Ctrl-C reaches us, not adb, and a timeout kills what adb started
        proc = subprocess.Popen(
            [str(adb), *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    except OSError as e:
        raise AdbNotFound(f"cannot run {adb}: {e.strerror}; reinstall platform-tools") from e
    try:
        stdout, stderr = proc.communicate(timeout=max(timeout_s, 0.1))
    except BaseException as e:  # a timeout, Ctrl-C: adb must not outlive the call
        _kill(proc)
        if isinstance(e, subprocess.TimeoutExpired):
            raise AdbTimeout(
                f"'adb {what}' did not answer within {timeout_s:.3g} s: unlock the phone, check "
                "the USB cable, or run 'adb kill-server' and retry"
            ) from None
        raise
    raw = subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr)
    texts = []
    for data in (raw.stdout, raw.stderr):
        try:
            texts.append(data.decode("utf-8"))
        except UnicodeDecodeError:
            text = data.decode("utf-8", errors="replace")
            if not lenient:
                raise AdbCommandFailed(
                    f"'adb {what}' printed bytes that are not text ({text.strip()[:80]!r}): "
                    "check the adb install and the cable, or run 'adb kill-server' and retry"
                ) from None
            texts.append(text)
    return subprocess.CompletedProcess(raw.args, raw.returncode, texts[0], texts[1])


def _kill(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except OSError:
        pass
    try:  # a child that escaped the group may hold the pipes: stop waiting after 5 s
        proc.communicate(timeout=5)
    except subprocess.TimeoutExpired:
        for pipe in (proc.stdout, proc.stderr):
            pipe.close()
    proc.wait(5)


def list_devices(adb: Path | None = None, timeout_s: float = 15.0) -> list[tuple[str, str]]:
    """``(serial, state)`` for every line of ``adb devices -l``."""
    adb = adb or find_adb()
    result = _run_adb(adb, ["devices", "-l"], timeout_s)
    if result.returncode != 0:
        raise AdbCommandFailed(
            f"'adb devices' failed ({_last_line(result)}); run 'adb kill-server' and retry"
        )
    devices = []
    for line in result.stdout.splitlines():
        line = line.strip()
        if not line or line.startswith(("List of devices", "*")):
            continue
        serial, _, rest = line.replace("\t", " ").partition(" ")  # -l pads with spaces
        rest = rest.strip()
        # states are one word except "no permissions (...)"
        state = "no permissions" if rest.startswith("no permissions") else rest.split(" ")[0]
        if state not in DEVICE_STATES:
            raise AdbCommandFailed(
                f"'adb devices' printed a line it does not explain ({line[:80]!r}); run "
                "'adb kill-server' and retry"
            )
        devices.append((serial, state))
    return devices


def select_device(
    serial: str | None = None, *, adb: Path | None = None, timeout_s: float = 15.0
) -> AndroidDevice:
    """The one connected, authorised phone (or the one with ``serial``) as an AndroidDevice."""
    adb = adb or find_adb()
    devices = list_devices(adb, timeout_s)
    if not devices:
        raise NoDevice(
            "no Android device found: connect a phone by USB and enable USB debugging "
            "in Developer options"
        )
    if serial is None:
        if len(devices) > 1:
            listed = ", ".join(f"{s} ({state})" for s, state in devices)
            raise MultipleDevices(
                f"{len(devices)} devices connected: {listed}; pass --serial SERIAL to choose one"
            )
        serial, state = devices[0]
    else:
        states = dict(devices)
        if serial not in states:
            raise NoDevice(
                f"device {serial!r} not connected (connected: "
                f"{', '.join(states)}); check the serial in 'adb devices'"
            )
        state = states[serial]
    if state == "unauthorized":
        raise DeviceUnauthorized(
            f"device {serial} is unauthorized: unlock the phone and accept "
            "the 'Allow USB debugging?' RSA key prompt, then retry"
        )
    if state == "no permissions":
        raise DeviceUnauthorized(
            f"no permission to open device {serial}: add a udev rule for "
            "the phone (or join the plugdev group), then replug it"
        )
    if state != "device":
        raise NoDevice(
            f"device {serial} is {state}: replug the cable or run 'adb reconnect', then retry"
        )
    return AndroidDevice(serial, adb=adb)


class AndroidDevice:
    """One selected phone; every adb call goes to it with ``-s SERIAL``."""

    def __init__(
        self,
        serial: str,
        *,
        adb: Path | None = None,
        call_timeout_s: float = 30.0,
        deadline: float | None = None,
    ):
        self.serial = serial
        self.adb = adb or find_adb()
        self.call_timeout_s = call_timeout_s
        self.deadline = deadline  # time.monotonic() by which every adb call must be over
        self._info: dict[str, Any] | None = None

    def adb_call(
        self, *args: str, timeout_s: float | None = None, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        """``adb -s SERIAL <args>``; a non-zero exit raises AdbCommandFailed when ``check``."""
        timeout = self.call_timeout_s if timeout_s is None else timeout_s
        if self.deadline is not None:
            remaining = self.deadline - time.monotonic()
            if remaining <= 0:
                raise AdbTimeout(
                    f"the device run did not finish within --device-timeout (before "
                    f"'adb {_adb_words(list(args))}'): raise --device-timeout or lower --iters"
                )
            timeout = min(timeout, remaining)
        result = _run_adb(self.adb, ["-s", self.serial, *args], timeout)
        if check and result.returncode != 0:
            raise AdbCommandFailed(
                f"'adb {' '.join(args[:2])}' failed on {self.serial} "
                f"({_last_line(result)}); check the phone is still connected"
            )
        return result

    def shell(
        self, *args: str, timeout_s: float | None = None, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        """``adb shell`` with the arguments quoted for the device's shell."""
        return self.adb_call("shell", shlex.join(args), timeout_s=timeout_s, check=check)

    def getprop(self, name: str) -> str:
        return self.shell("getprop", name).stdout.strip()

    def device_info(self) -> dict[str, Any]:
        """Phone model, SoC, ABI and Android release from getprop (asked once, then cached)."""
        if self._info is None:
            # one `getprop` listing ("[name]: [value]" lines) instead of a round trip per prop
            listing = self.shell("getprop").stdout
            props = dict(re.findall(r"^\[([^\]]+)\]: \[(.*)\]\s*$", listing, re.MULTILINE))
            soc = props.get("ro.soc.model") or props.get("ro.board.platform")
            self._info = {
                "model": props.get("ro.product.model") or self.serial,
                "soc": soc or props.get("ro.hardware") or None,
                "abi": props.get("ro.product.cpu.abi") or None,
                "android": props.get("ro.build.version.release") or None,
            }
        return dict(self._info)

    def push_artifacts(self, paths: list[str | Path], remote_dir: str = REMOTE_DIR) -> list[str]:
        """Push each artifact and its ``.json`` sidecar; returns the remote artifact paths.

        Directory artifacts (a Core ML ``.mlpackage``) are skipped: they do not run on Android.
        """
        to_push: list[Path] = []
        for raw in paths:
            path = Path(raw)
            if path.is_dir():
                log.warning("skipping %s: a directory artifact is not for Android", path.name)
                continue
            if not path.is_file():
                raise ArtifactError(
                    f"artifact {str(path)!r} does not exist; export it with coordatt-export first"
                )
            if path.suffix not in ANDROID_FORMATS:
                raise ArtifactError(
                    f"artifact {path.name!r} is not one of "
                    f"{', '.join(ANDROID_FORMATS)}; pass .pte or .onnx files"
                )
            sidecar = path.with_name(path.name + ".json")
            if not sidecar.is_file():
                raise ArtifactError(
                    f"no sidecar {sidecar.name!r} beside {path.name!r}; the app "
                    "needs it: re-export with coordatt-export"
                )
            to_push.append(path)
        if not to_push:
            return []
        self.shell("mkdir", "-p", remote_dir)
        remote = []
        for path in to_push:
            sidecar = path.with_name(path.name + ".json")
            # big models over USB 2: allow a few minutes per artifact
            self.adb_call("push", str(path), str(sidecar), f"{remote_dir}/", timeout_s=300)
            remote.append(f"{remote_dir}/{path.name}")
        return remote

    def install_apk(self, path: str | Path) -> None:
        """``adb install -r -g``: replace an older build and grant its permissions."""
        path = Path(path)
        if not path.is_file():
            raise InstallFailed(
                f"APK {str(path)!r} does not exist; build it with "
                "'./gradlew assembleDebug' in android_demo/"
            )
        result = self.adb_call("install", "-r", "-g", str(path), timeout_s=300, check=False)
        output = (result.stdout + result.stderr).strip()
        if result.returncode != 0 or "Success" not in output:
            reason = _last_line(result)
            raise InstallFailed(
                f"installing {path.name} failed ({reason}); uninstall the old "
                "app or free space on the phone, then retry"
            )

    def logcat_tail(self, lines: int = LOGCAT_LINES) -> list[str]:
        """The last lines the app and the crash reporter logged (empty when adb fails)."""
        try:  # bounded on its own (10 s), also after the deadline: the log says what went wrong
            filters = "logcat -d -s coordatt:* AndroidRuntime:E".split()
            timeout = min(self.call_timeout_s, 10)
            result = _run_adb(self.adb, ["-s", self.serial, *filters], timeout, lenient=True)
        except AdbError:
            return []
        return [line for line in result.stdout.splitlines() if line.strip()][-lines:]

    def run_benchmark(
        self,
        *,
        package: str = PACKAGE,
        activity: str = ACTIVITY,
        model_dir: str = REMOTE_DIR,
        iters: int = 50,
        warmup: int = 10,
        threads: int = 4,
        timeout_s: float = 600.0,
        poll_s: float = 0.25,
    ) -> list[dict[str, Any]]:
        """Start BenchmarkActivity on ``model_dir`` and return its rows once it has written them.

        ``threads=0`` lets each runtime choose. The timeout covers the whole run, adb calls too.
        """
        for name, value, least in (
            ("iters", iters, 1),
            ("warmup", warmup, 0),
            ("threads", threads, 1),
        ):
            if isinstance(value, bool) or not isinstance(value, int) or value < least:
                raise ValueError(f"{name}={value!r}: must be an integer >= {least}")
        check_timeout(timeout_s)
        deadline = time.monotonic() + timeout_s

        def left() -> float:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AdbTimeout(
                    f"the benchmark did not finish within {timeout_s:g} s: raise "
                    "--device-timeout or lower --iters",
                    self.logcat_tail(),
                )
            return min(self.call_timeout_s, remaining)

        # a result left by an earlier run must not be read as this run's
        cleared = self.shell(
            "run-as", package, "rm", "-f", RESULT_FILE, timeout_s=left(), check=False
        )
        if cleared.returncode != 0:
            raise AppNotInstalled(
                f"'run-as {package}' failed ({_last_line(cleared)}): install "
                "the debug build of the demo app (--apk)"
            )
        self.adb_call("logcat", "-c", timeout_s=left(), check=False)
        component = f"{package}/{activity}"
        extras = f"--ei iters {iters} --ei warmup {warmup} --ei threads {threads}".split()
        intent = ["-W", "-n", component, "--es", "model_dir", model_dir, *extras]
        started = self.shell("am", "start", *intent, timeout_s=left(), check=False)
        output = started.stdout + started.stderr
        if "Error" in output or "Exception" in output or started.returncode != 0:
            bad = next(
                (ln for ln in output.splitlines() if "Error" in ln or "Exception" in ln),
                _last_line(started),
            )
            raise AppCrashed(
                f"could not start {component} ({bad.strip()}); install the demo "
                "app (--apk) and check the activity name",
                self.logcat_tail(),
            )

        def poll(*args: str) -> subprocess.CompletedProcess[str]:
            # a poll near the deadline still gets a fair second to answer; the loop below, not
            # this call, decides when waiting is over (NoResult)
            remaining = max(deadline - time.monotonic(), 1.0)
            return self.shell(*args, timeout_s=min(self.call_timeout_s, remaining), check=False)

        def read_result() -> list[dict[str, Any]] | None:
            rows = _rows_or_none(poll("run-as", package, "cat", RESULT_FILE))
            return None if rows is None else self._device_rows(rows)

        while True:
            if (rows := read_result()) is not None:
                return rows
            alive = poll("pidof", package).stdout.strip()
            if not alive:
                # it may have written the file and exited between the two calls
                if (rows := read_result()) is not None:
                    return rows
                try:
                    finished = _rows_or_none(poll("run-as", package, "cat", PARTIAL_FILE)) or []
                except NoResult:
                    finished = []
                raise AppCrashed(
                    f"{package} died before writing {RESULT_FILE} ({len(finished)} row(s) "
                    "finished first): fix the crash shown in logcat below",
                    self.logcat_tail(),
                    rows=self._device_rows(finished),
                )
            if deadline - time.monotonic() <= poll_s:
                raise NoResult(
                    f"{package} is running but wrote no readable {RESULT_FILE} "
                    f"within {timeout_s:g} s: raise --device-timeout or check the app log",
                    self.logcat_tail(),
                )
            time.sleep(poll_s)

    def _device_rows(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        info = self.device_info()
        for row in rows:
            # what the app itself knew wins; getprop fills its gaps
            from_app = {k: v for k, v in (row.get("device_info") or {}).items() if v is not None}
            merged = {key: info[key] for key in ("soc", "abi", "android")} | from_app
            merged.setdefault("runtimes", {})
            row["device"] = info["model"]
            row["device_info"] = merged
            row["source"] = "android-app"
        return rows


def check_timeout(timeout_s: float) -> None:
    """ValueError unless ``timeout_s`` is a finite number of seconds above 0."""
    if isinstance(timeout_s, bool) or not isinstance(timeout_s, (int, float)) or \
            not math.isfinite(timeout_s) or timeout_s <= 0:
        raise ValueError(f"--device-timeout must be a finite number of seconds above 0, "
                         f"got {timeout_s!r}")


def _rows_or_none(result: subprocess.CompletedProcess[str]) -> list[dict[str, Any]] | None:
    """Rows when the result file is complete, None while it is absent or half-written."""
    if result.returncode != 0 or not result.stdout.strip():
        return None
    try:
        json.loads(result.stdout)
    except json.JSONDecodeError:
        return None
    try:
        return parse_device_log(result.stdout, fmt="coordatt")
    except DeviceLogError as e:
        raise NoResult(
            f"the app wrote an unreadable {RESULT_FILE} ({e}); update the app or "
            "coordatt so their schemas match"
        ) from e


def _last_line(result: subprocess.CompletedProcess[str]) -> str:
    lines = [ln.strip() for ln in (result.stderr + "\n" + result.stdout).splitlines() if ln.strip()]
    return lines[-1] if lines else f"exit code {result.returncode}"


def run_on_device(
    artifacts: list[Path],
    *,
    serial: str | None = None,
    apk: Path | None = None,
    iters: int = 50,
    warmup: int = 10,
    threads: int = 4,
    timeout_s: float = 600.0,
    package: str = PACKAGE,
    remote_dir: str = REMOTE_DIR,
) -> list[dict[str, Any]]:
    """Select the phone, install ``apk`` if given, push ``artifacts``, run, return the rows.

    ``timeout_s`` bounds all of it: every adb call (selection, install, push, start, polls)
    and the wait for the app's results. The entry point for ``coordatt-bench --device android``.
    """
    check_timeout(timeout_s)
    deadline = time.monotonic() + timeout_s
    device = select_device(serial, timeout_s=min(15.0, timeout_s))
    device.deadline = deadline
    if apk is not None:
        device.install_apk(apk)
    pushed = device.push_artifacts(list(artifacts), remote_dir)
    if not pushed:
        raise ArtifactError(
            "no .pte or .onnx artifact to run on Android; export one with "
            "coordatt-export --format pte (or onnx)"
        )
    return device.run_benchmark(
        package=package,
        model_dir=remote_dir,
        iters=iters,
        warmup=warmup,
        threads=threads,
        timeout_s=max(deadline - time.monotonic(), 1e-3),
    )
