"""Run the demo app's benchmark mode on Android phones over adb and collect its result rows.

- adb.py: finding and calling adb (every call bounded), listing phones, the driver's errors;
- device.py: one phone (getprop, push, install, wake and keep awake, logcat);
- run.py: one benchmark run (force-stop, ``am start -S -W`` with a run_id, wait for this run's
  results or the app's failure file), and :func:`run_on_device` for one phone;
- several.py: several phones in parallel, one process each;
- evalset.py: the labelled sample pushed for ``--eval-dir`` (eager top-1 from the host);
- devicefarm.py: the same run as an AWS Device Farm custom test spec;
- bench.py: ``coordatt-bench --device android`` from a BenchConfig.

The app and the harness share docs/formats.md ("Benchmark results", "Android benchmark run").
"""

from .adb import (
    AdbCommandFailed,
    AdbError,
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
    StaleResult,
    check_timeout,
    find_adb,
    list_devices,
)
from .device import ANDROID_FORMATS, PACKAGE, REMOTE_DIR, AndroidDevice, select_device
from .run import (
    ACTIVITY,
    FAILED_FILE,
    PARTIAL_FILE,
    RESULT_FILE,
    Interrupted,
    RunSettings,
    run_benchmark,
    run_on_device,
    start_command,
)

__all__ = [
    "ACTIVITY", "ANDROID_FORMATS", "AdbCommandFailed", "AdbError", "AdbNotFound", "AdbTimeout",
    "AndroidDevice", "AppCrashed", "AppFailed", "AppNotInstalled", "ArtifactError",
    "DeviceNotReady", "DeviceUnauthorized", "FAILED_FILE", "InstallFailed", "Interrupted",
    "MultipleDevices", "NoDevice", "NoResult", "PACKAGE", "PARTIAL_FILE", "REMOTE_DIR",
    "RESULT_FILE", "RunSettings", "StaleResult", "check_timeout", "find_adb", "list_devices",
    "run_benchmark", "run_on_device", "select_device", "start_command",
]
