"""``coordatt-bench --device android``: from a BenchConfig to phone rows (or a device-farm job).

Chooses the phone(s) first (no adb, no phone, an unauthorised one fail before any export),
finds or exports the artifacts the app can run, stages the ``--eval-dir`` sample with eager
top-1 computed here, then runs on one phone in this process or on several phones, one process
each (several.py).
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ...errors import CoordattError
from .adb import check_timeout, list_devices
from .device import select_device
from .evalset import DEFAULT_LIMIT, EvalSample, stage_eval
from .run import RunSettings, run_on_device

# runtime -> the runtime whose artifact it runs (ONNX Runtime's XNNPACK provider runs the .onnx)
ANDROID_RUNTIMES = {
    "executorch-xnnpack": "executorch-xnnpack",
    "executorch-xnnpack-int8": "executorch-xnnpack-int8",
    "onnxruntime": "onnxruntime",
    "onnxruntime-int8": "onnxruntime-int8",
    "onnxruntime-xnnpack": "onnxruntime",
    "onnxruntime-xnnpack-int8": "onnxruntime-int8",
    "litert": "litert",
    "litert-int8": "litert-int8",
}


def run_settings(config, *, rounds: int | None = None, cooldown_ms: int = 0) -> list[RunSettings]:
    """One app run per thread count; ``runtimes`` sent only when the user narrowed them."""
    from ...runtime import DEFAULT_RUNTIMES

    runtimes = None
    if tuple(config.runtimes) != tuple(DEFAULT_RUNTIMES):
        runtimes = tuple(r for r in config.runtimes if r in ANDROID_RUNTIMES)
    runs = [RunSettings(iters=config.iters, warmup=config.warmup, threads=threads,
                        rounds=rounds, cooldown_ms=cooldown_ms, runtimes=runtimes)
            for threads in config.threads]
    for run in runs:
        run.validate()
    return runs


def android_artifacts(config, *, progress: bool = True,
                      notice: Callable[[str], None] = lambda text: None) -> list[Path]:
    """The artifacts the app runs for ``config``: what --artifacts holds, or each model's,
    exported when missing. An artifact that cannot be made is said and left out."""
    from ..subjects import artifact_for, discover

    wanted = list(dict.fromkeys(ANDROID_RUNTIMES[r] for r in config.runtimes
                                if r in ANDROID_RUNTIMES))
    if not wanted:
        raise ValueError(f"none of --runtimes runs on Android; choose from "
                         f"{', '.join(ANDROID_RUNTIMES)}")
    paths: list[Path] = []
    if config.models is None:  # what --artifacts holds
        for subject in discover(config.artifacts_dir, tuple(wanted)):
            for runtime, art in subject.artifacts.items():
                if runtime in wanted:
                    if isinstance(art, str):
                        raise ValueError(art)
                    paths.append(art)
        return paths
    for model in config.models:
        for runtime in wanted:
            try:
                paths.append(artifact_for(config, model, runtime, progress=progress))
            except CoordattError as e:  # e.g. LiteRT not installed: the other runtimes run
                notice(f"{model} / {runtime}: not run on the phone: "
                       f"{(str(e).splitlines() or [''])[0]}")
    if not paths:
        raise ValueError("no artifact could be made for the phone (see the notes above)")
    return paths


def _phones(serial: str | None, all_devices: bool, timeout_s: float) -> list[tuple[str, str]]:
    """``(serial, state)`` of the phones to run on; one phone is checked at once (fail fast)."""
    serials = [s.strip() for s in (serial or "").split(",") if s.strip()]
    if all_devices:
        from .several import connected_serials

        return connected_serials(timeout_s)
    if len(serials) <= 1:
        device = select_device(serials[0] if serials else None, timeout_s=timeout_s)
        return [(device.serial, "device")]
    states = dict(list_devices(timeout_s=timeout_s))
    return [(s, states.get(s, "missing")) for s in dict.fromkeys(serials)]


@contextmanager
def _prepared(config, *, rounds: int | None, cooldown_ms: int, eval_limit: int | None,
              progress: bool, notice: Callable[[str], None], before_export=lambda: None
              ) -> Iterator[tuple[list[RunSettings], list[Path], EvalSample | None]]:
    """The run settings, the artifacts and the staged eval sample (removed afterwards)."""
    from ..harness import validate

    validate(config)
    runs = run_settings(config, rounds=rounds, cooldown_ms=cooldown_ms)
    before_export()
    paths = android_artifacts(config, progress=progress, notice=notice)
    with tempfile.TemporaryDirectory(prefix="coordatt-eval-") as staging:
        sample = None
        if config.eval_dir is not None:
            sample = stage_eval(config.eval_dir, paths, Path(staging), limit=eval_limit,
                                verbose=config.verbose, notice=notice)
        yield runs, paths, sample


def run_on_android(config, *, serial: str | None = None, all_devices: bool = False,
                   apk: Path | None = None, timeout_s: float = 600.0, rounds: int | None = None,
                   cooldown_ms: int = 0, eval_limit: int | None = DEFAULT_LIMIT,
                   progress: bool = True, setup: dict[str, Any] | None = None,
                   notice: Callable[[str], None] = lambda text: None) -> list[dict]:
    """Export what is missing, push the artifacts (with sidecars and check files) and the eval
    sample, run the demo app's benchmark mode once per thread count on each phone, and return
    the rows (device = the phone's model, device_serial = its adb serial).

    ``serial``: one serial or several, comma-separated; ``all_devices``: every phone adb lists.
    ``timeout_s`` bounds the phone selection (15 s at most, before any export) and, on each
    phone, everything after the export. ``setup`` (when given) receives what results.json's
    config should say of the run. Raises AdbError (one phone) with a one-line message; on
    several phones a failing one gives error rows instead. Ctrl-C raises a KeyboardInterrupt
    holding the rows finished before (``rows``).
    """
    check_timeout(timeout_s)
    phones: list[tuple[str, str]] = []

    def choose() -> None:  # no adb, no phone, an unauthorised one: before any export
        phones.extend(_phones(serial, all_devices, min(15.0, timeout_s)))

    with _prepared(config, rounds=rounds, cooldown_ms=cooldown_ms, eval_limit=eval_limit,
                   progress=progress, notice=notice, before_export=choose) as (runs, paths,
                                                                               sample):
        if setup is not None:
            setup.update(_setup(runs, phones, sample))
        folder = sample.folder if sample else None
        if len(phones) == 1 and phones[0][1] == "device":
            return run_on_device(paths, serial=phones[0][0], apk=apk, settings=runs,
                                 eval_folder=folder, timeout_s=timeout_s, notice=notice)
        from .several import run_on_devices

        return run_on_devices(paths, phones, apk=apk, settings=runs, eval_folder=folder,
                              timeout_s=timeout_s, notice=notice)


def _setup(runs: list[RunSettings], phones: list[tuple[str, str]], sample) -> dict[str, Any]:
    """What results.json's config says of a phone run (over the host's keys of the same name)."""
    first = runs[0]
    setup: dict[str, Any] = {
        "block_size": -(-first.iters // first.block_rounds),  # the largest block, as the app's
        "isolation": "one app process per phone and thread count (am start -S); artifacts "
                     "round-robin in blocks on the phone",
        "input": "the app's, preprocessed on the phone as each artifact's sidecar says",
        "android": {"serials": [s for s, _ in phones], "rounds": first.block_rounds,
                    "cooldown_ms": first.cooldown_ms,
                    "run_ids": {str(r.threads): r.run_id for r in runs},
                    "runtimes": list(first.runtimes) if first.runtimes else None}}
    if sample is not None:
        setup["eval"] = sample.config  # the sample pushed, evaluated on the phone
    return setup


def write_farm_spec(config, out_dir: Path, *, apk: Path | None = None, timeout_s: float = 600.0,
                    rounds: int | None = None, cooldown_ms: int = 0,
                    eval_limit: int | None = DEFAULT_LIMIT, progress: bool = True,
                    notice: Callable[[str], None] = lambda text: None) -> dict[str, Path]:
    """The same run as an AWS Device Farm job in ``out_dir`` (devicefarm.py); no phone needed."""
    from .devicefarm import write_farm_job

    check_timeout(timeout_s)
    with _prepared(config, rounds=rounds, cooldown_ms=cooldown_ms, eval_limit=eval_limit,
                   progress=progress, notice=notice) as (runs, paths, sample):
        return write_farm_job(out_dir, paths, runs, apk=apk,
                              eval_folder=sample.folder if sample else None,
                              timeout_s=timeout_s)
