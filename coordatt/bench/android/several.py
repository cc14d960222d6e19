"""Several phones at once: one process per phone, each with its own adb serial, in parallel.

Each process runs :func:`coordatt.bench.android.run.run_on_device` for its phone and sends back
its rows. A phone that fails (not authorised, disconnected mid-run, the app crashed, no answer
within --device-timeout) gives one error row per artifact, runtime and thread count it did not
finish, tagged with its serial; the other phones finish. Rows come back in serial order.
"""

from __future__ import annotations

import json
import multiprocessing
import signal
import time
from collections.abc import Callable
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Any

from coordatt.bench.device_logs.rows import make_row

from .adb import AdbError, check_timeout, list_devices
from .device import ANDROID_FORMATS, check_state, select_device
from .run import Interrupted, RunSettings, run_on_device

GRACE_S = 20.0  # a worker's start (a fresh interpreter) and its last adb calls after the timeout


def connected_serials(timeout_s: float = 15.0) -> list[tuple[str, str]]:
    """``(serial, state)`` of every phone ``adb devices`` lists (--all-devices)."""
    devices = list_devices(timeout_s=timeout_s)
    if not devices:
        select_device(timeout_s=timeout_s)  # raises NoDevice with the usual advice
    return devices


def app_runtimes(sidecar: dict, suffix: str) -> list[str]:
    """The runtimes the app gives rows for on one artifact (docs/formats.md): an ``.onnx`` runs
    on ONNX Runtime's CPU provider and on its XNNPACK provider."""
    from coordatt.runtime import runtime_for

    runtime = runtime_for(sidecar.get("format"), sidecar.get("backend"), sidecar.get("precision"))
    if runtime is None:
        return []
    if suffix == ".onnx":
        return [runtime, runtime.replace("onnxruntime", "onnxruntime-xnnpack")]
    return [runtime]


def _sidecar(path: Path) -> dict:
    """The artifact's sidecar as JSON (checked when it was chosen), {} when unreadable."""
    try:
        data = json.loads(path.with_name(path.name + ".json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def expected_rows(artifacts: list[Path], runs: list[RunSettings]) -> list[dict[str, Any]]:
    """(artifact, runtime, threads) of every row a run of ``artifacts`` should give."""
    wanted = []
    for path in artifacts:
        if path.suffix not in ANDROID_FORMATS:
            continue
        sidecar = _sidecar(path)
        for runtime in app_runtimes(sidecar, path.suffix):
            for run in runs:
                if run.runtimes and runtime not in run.runtimes:
                    continue
                wanted.append({"artifact": path.name, "runtime": runtime, "threads": run.threads,
                               "sidecar": sidecar})
    return wanted


def error_rows(wanted: list[dict[str, Any]], done: list[dict[str, Any]], *, serial: str,
               device: str, message: str) -> list[dict[str, Any]]:
    """An error row for every wanted row the phone did not give."""
    have = {(r.get("artifact"), r.get("runtime"), r.get("threads")) for r in done}
    rows = []
    for want in wanted:
        if (want["artifact"], want["runtime"], want["threads"]) in have:
            continue
        sidecar = want["sidecar"]
        row = make_row(source="android-app", samples_ms=[], artifact=want["artifact"],
                       model=sidecar.get("name") or sidecar.get("model"),
                       runtime=want["runtime"], device=device, error=message)
        size = (sidecar.get("identity") or {}).get("input_size")
        row.update(threads=want["threads"], precision=sidecar.get("precision") or
                   row["precision"], input_size=list(size) if size else row["input_size"],
                   device_serial=serial, flagged=None)
        if sidecar.get("width_mult") is not None:
            row["width_mult"] = float(sidecar["width_mult"])
        rows.append(row)
    return rows


def _worker(conn: Connection, serial: str, artifacts: list[Path], options: dict) -> None:
    """One phone, in its own process: ("rows", rows, notes) or ("error", message, rows, model).
    SIGTERM from the parent ends it as Ctrl-C does (the phone's settings are restored)."""

    def stop(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    notes: list[str] = []
    model = None
    try:
        try:
            model = select_device(serial, timeout_s=15.0).device_info()["model"]
        except AdbError:
            pass  # run_on_device says what is wrong
        rows = run_on_device(artifacts, serial=serial, notice=notes.append, **options)
        conn.send(("rows", rows, notes))
    except Interrupted as e:
        conn.send(("error", "interrupted", e.rows, model))
    except KeyboardInterrupt:
        conn.send(("error", "interrupted", [], model))
    except AdbError as e:
        conn.send(("error", e.message, list(getattr(e, "rows", [])), model))
    except Exception as e:  # a worker never dies silently: the parent writes its error rows
        text = (str(e).strip().splitlines() or [""])[0][:200]
        conn.send(("error", f"{type(e).__name__}: {text}", [], model))
    finally:
        conn.close()


def run_on_devices(
    artifacts: list[Path],
    serials: list[tuple[str, str]],
    *,
    apk: Path | None = None,
    settings: list[RunSettings],
    eval_folder: Path | None = None,
    timeout_s: float = 600.0,
    notice: Callable[[str], None] = lambda text: None,
) -> list[dict[str, Any]]:
    """Run on every ``(serial, state)`` phone in parallel; rows of all, failed phones as error
    rows. Ctrl-C raises :class:`Interrupted` with every phone's finished rows."""
    check_timeout(timeout_s)
    artifacts = [Path(p) for p in artifacts]
    wanted = expected_rows(artifacts, settings)
    options = {"apk": apk, "settings": settings, "eval_folder": eval_folder,
               "timeout_s": timeout_s}
    context = multiprocessing.get_context("spawn")  # no fork of a process that may hold torch
    results: dict[str, list[dict[str, Any]]] = {}
    workers: dict[Connection, tuple[str, Any]] = {}
    for serial, state in serials:
        try:
            check_state(serial, state)
        except AdbError as e:
            results[serial] = error_rows(wanted, [], serial=serial, device="unknown phone",
                                         message=f"{serial}: {e.message}")
            notice(f"{serial}: {e.message}")
            continue
        parent, child = context.Pipe(duplex=False)
        process = context.Process(target=_worker, args=(child, serial, artifacts, options),
                                  name=f"coordatt-bench {serial}", daemon=True)
        process.start()
        child.close()
        workers[parent] = (serial, process)
    deadline = time.monotonic() + timeout_s + GRACE_S
    interrupted = False
    try:
        _collect(workers, results, wanted, deadline, notice)
    except KeyboardInterrupt:
        interrupted = True
        for _, process in workers.values():
            process.terminate()  # SIGTERM: each restores its phone and sends what it has
        _collect(workers, results, wanted, time.monotonic() + 15, notice)
    rows = [row for serial, _ in serials for row in results.get(serial, [])]
    if interrupted:
        raise Interrupted([r for r in rows if r["error"] is None])
    return rows


def _collect(workers: dict[Connection, tuple[str, Any]], results: dict, wanted: list,
             deadline: float, notice: Callable[[str], None]) -> None:
    """Receive each worker's answer until ``deadline``; a silent one is killed."""
    while workers:
        ready = wait(list(workers), timeout=max(deadline - time.monotonic(), 0))
        if not ready:
            break
        for conn in ready:
            serial, process = workers.pop(conn)
            try:
                answer = conn.recv()
            except (EOFError, OSError):
                answer = ("error", f"its process ended without a word (exit code "
                                   f"{process.exitcode})", [], None)
            process.join(5)
            if answer[0] == "rows":
                results[serial] = answer[1]
                for note in answer[2]:
                    notice(note)
                continue
            message, done, model = answer[1], answer[2], answer[3]
            notice(f"{serial}: {message}")
            results[serial] = done + error_rows(wanted, done, serial=serial,
                                                device=model or "unknown phone",
                                                message=f"{serial}: {message}")
    for conn, (serial, process) in list(workers.items()):
        process.kill()
        process.join(5)
        workers.pop(conn)
        message = f"{serial}: no answer within --device-timeout; the phone may be gone"
        notice(message)
        results[serial] = error_rows(wanted, [], serial=serial, device="unknown phone",
                                     message=message)
