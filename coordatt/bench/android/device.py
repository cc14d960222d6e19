"""One phone over adb: choosing it, what it is (getprop), pushing artifacts and an eval sample,
installing the app, waking it and keeping its screen on for the run, reading its log.

Every call goes to one serial (``adb -s SERIAL``) and is bounded by the device's deadline, so a
phone that disappears mid-run ends in an :class:`AdbError`, never in a wait without end.
"""

from __future__ import annotations

import logging
import re
import shlex
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .adb import (
    AdbError,
    AdbTimeout,
    ArtifactError,
    DeviceNotReady,
    DeviceUnauthorized,
    InstallFailed,
    MultipleDevices,
    NoDevice,
    _adb_words,
    _last_line,
    _run_adb,
    find_adb,
    list_devices,
)

log = logging.getLogger(__name__)

REMOTE_DIR = "/data/local/tmp/coordatt"
PACKAGE = "org.coordatt.demo"
ANDROID_FORMATS = (".pte", ".onnx", ".tflite")  # what the app runs; .mlpackage is for Apple
CHECK_SUFFIX = ".check.bin"  # <artifact>.check.bin beside each artifact (docs/formats.md)
LOGCAT_LINES = 15
STAY_ON_SETTING = "stay_on_while_plugged_in"  # Settings.Global; `svc power stayon` writes it


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
                f"{len(devices)} devices connected: {listed}; pass --serial SERIAL (or "
                "--serial A,B / --all-devices to run on several)"
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
    check_state(serial, state)
    return AndroidDevice(serial, adb=adb)


def check_state(serial: str, state: str) -> None:
    """AdbError saying what to do unless ``state`` (from ``adb devices``) is a usable phone."""
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
    if state == "missing":
        raise NoDevice(f"device {serial} is not connected; check the serial in 'adb devices'")
    if state != "device":
        raise NoDevice(
            f"device {serial} is {state}: replug the cable or run 'adb reconnect', then retry"
        )


def android_files(path: Path) -> list[Path]:
    """What the app needs of one artifact: the artifact, its sidecar, its check file if any.
    ArtifactError when it cannot run on Android or lacks its sidecar."""
    if not path.is_file():
        raise ArtifactError(
            f"artifact {str(path)!r} does not exist; export it with coordatt-export first"
        )
    if path.suffix not in ANDROID_FORMATS:
        raise ArtifactError(
            f"artifact {path.name!r} is not one of {', '.join(ANDROID_FORMATS)}; pass "
            ".pte, .onnx or .tflite files"
        )
    sidecar = path.with_name(path.name + ".json")
    if not sidecar.is_file():
        raise ArtifactError(
            f"no sidecar {sidecar.name!r} beside {path.name!r}; the app "
            "needs it: re-export with coordatt-export"
        )
    check = path.with_name(path.name + CHECK_SUFFIX)
    return [path, sidecar, *([check] if check.is_file() else [])]


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
        self.notes: list[str] = []  # preparation steps that did not work (said, not fatal)
        self._info: dict[str, Any] | None = None

    def adb_call(
        self, *args: str, timeout_s: float | None = None, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        """``adb -s SERIAL <args>``; a non-zero exit raises AdbCommandFailed when ``check``."""
        from .adb import AdbCommandFailed

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

    def force_stop(self, package: str = PACKAGE) -> None:
        """End every process of the app: an earlier run must not infer during this one."""
        self.shell("am", "force-stop", package)

    def push_artifacts(self, paths: list[str | Path], remote_dir: str = REMOTE_DIR) -> list[str]:
        """Empty ``remote_dir``, then push each artifact with its sidecar and check file;
        returns the remote artifact paths. The app runs every artifact the folder holds, so
        nothing of an earlier run may stay there.

        Directory artifacts (a Core ML ``.mlpackage``) are skipped: they do not run on Android.
        """
        to_push: list[list[Path]] = []
        for raw in paths:
            path = Path(raw)
            if path.is_dir():
                log.warning("skipping %s: a directory artifact is not for Android", path.name)
                continue
            to_push.append(android_files(path))
        if not to_push:
            return []
        self.shell("rm", "-rf", remote_dir)
        self.shell("mkdir", "-p", remote_dir)
        remote = []
        for files in to_push:
            # big models over USB 2: allow a few minutes per artifact
            self.adb_call("push", *map(str, files), f"{remote_dir}/", timeout_s=300)
            remote.append(f"{remote_dir}/{files[0].name}")
        return remote

    def push_folder(self, folder: Path, remote_dir: str = REMOTE_DIR) -> str:
        """Push a local folder into ``remote_dir`` (it becomes ``remote_dir/<folder name>``)."""
        self.adb_call("push", str(folder), f"{remote_dir}/", timeout_s=600)
        return f"{remote_dir}/{folder.name}"

    def make_readable(self, remote_dir: str = REMOTE_DIR) -> None:
        """``chmod -R o+rX``: the app runs as its own user and must read what the shell pushed."""
        result = self.shell("chmod", "-R", "o+rX", remote_dir, check=False)
        if result.returncode != 0:
            raise DeviceNotReady(
                f"could not make {remote_dir} readable to the app on {self.serial} "
                f"({_last_line(result)}): the app could not open the models; check "
                f"'adb shell ls -ld {remote_dir}' and free space on the phone"
            )

    @contextmanager
    def awake(self) -> Iterator[None]:
        """Wake the phone, dismiss the keyguard and keep the screen on while plugged in (USB)
        for the run, then restore the earlier stay-on setting. A step that fails is noted in
        ``notes`` (a locked phone with a PIN cannot be unlocked from adb): the app marks rows
        measured with the screen off or out of the foreground."""
        previous = self._setting(STAY_ON_SETTING)
        for step in (("input", "keyevent", "KEYCODE_WAKEUP"), ("wm", "dismiss-keyguard"),
                     ("svc", "power", "stayon", "usb")):
            self._try(*step)
        try:
            yield
        finally:
            # also after a timeout or Ctrl-C: bounded on its own, never past 10 s a call
            deadline, self.deadline = self.deadline, None
            try:
                if previous is not None and previous.isdigit():
                    self._try("settings", "put", "global", STAY_ON_SETTING, previous)
                else:
                    self._try("svc", "power", "stayon", "false")
            finally:
                self.deadline = deadline

    def _setting(self, name: str) -> str | None:
        try:
            result = self.shell("settings", "get", "global", name, check=False)
        except AdbError:
            return None
        return result.stdout.strip() if result.returncode == 0 else None

    def _try(self, *args: str) -> None:
        try:
            result = self.shell(*args, timeout_s=min(self.call_timeout_s, 10), check=False)
        except AdbError as e:
            self.notes.append(f"'{' '.join(args)}' failed on {self.serial}: {e.message}")
            return
        if result.returncode != 0:
            self.notes.append(f"'{' '.join(args)}' failed on {self.serial}: "
                              f"{_last_line(result)}")

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
            filters = "logcat -d -s coordatt:* coordatt-bench:* AndroidRuntime:E".split()
            timeout = min(self.call_timeout_s, 10)
            result = _run_adb(self.adb, ["-s", self.serial, *filters], timeout, lenient=True)
        except AdbError:
            return []
        return [line for line in result.stdout.splitlines() if line.strip()][-lines:]
