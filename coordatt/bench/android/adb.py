"""adb itself: finding it, calling it with a timeout, listing phones, and the driver's errors.

Every adb call has a timeout and every failure is an :class:`AdbError` subclass whose message
is one line saying what to do; logcat lines, when useful, follow as ``details``.
"""

from __future__ import annotations

import math
import os
import shutil
import signal
import subprocess
from pathlib import Path
from typing import Any

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


class AppFailed(AppCrashed):
    """The app gave up and said why in ``files/benchmark_failed.txt`` (e.g. its final write)."""


class NoResult(AdbError):
    """The app ran but no readable result file appeared before the timeout."""


class StaleResult(NoResult):
    """The only result file on the phone is not this run's (another ``run_id``, or none)."""


class DeviceNotReady(AdbError):
    """A preparation step failed: the files could not be made readable to the app."""


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


def check_timeout(timeout_s: float) -> None:
    """ValueError unless ``timeout_s`` is a finite number of seconds above 0."""
    if isinstance(timeout_s, bool) or not isinstance(timeout_s, (int, float)) or \
            not math.isfinite(timeout_s) or timeout_s <= 0:
        raise ValueError(f"--device-timeout must be a finite number of seconds above 0, "
                         f"got {timeout_s!r}")


def _last_line(result: subprocess.CompletedProcess[str]) -> str:
    lines = [ln.strip() for ln in (result.stderr + "\n" + result.stdout).splitlines() if ln.strip()]
    return lines[-1] if lines else f"exit code {result.returncode}"
