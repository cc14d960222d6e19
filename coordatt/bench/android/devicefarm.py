"""The same phone run as a job for a device farm: an AWS Device Farm custom test spec.

``coordatt-bench --device android --farm-spec OUT_DIR`` writes, instead of running on a phone
here, what a farm needs to run exactly what :func:`coordatt.bench.android.run.run_on_device`
runs (docs/formats.md, "Android benchmark run"; the layout of ExecuTorch's own Android benchmark
jobs, which use Device Farm's custom environment):

- ``coordatt.zip``: the artifacts, their sidecars and check files (and ``eval/`` with
  ``eval_labels.csv`` for ``--eval-dir``), in a folder ``coordatt/`` pushed as
  ``/data/local/tmp/coordatt``;
- ``testspec.yml``: Device Farm test spec 0.1 (phases install, pre_test, test, post_test;
  artifacts ``$DEVICEFARM_LOG_DIR``). pre_test fetches the zip from ``$COORDATT_PAYLOAD_URL`` (a
  custom environment variable of the run) and checks its sha256, force-stops the app, pushes,
  ``chmod -R o+rX``, wakes the phone and keeps the screen on; test starts the app once per
  thread count with the same ``am start -S -W`` extras (its own run_id each) and waits, bounded,
  for a results file carrying that run_id or for ``benchmark_failed.txt``; post_test copies the
  results and the app's log into ``$DEVICEFARM_LOG_DIR`` and restores the screen setting;
- ``manifest.json`` and ``README.md``: what to upload where, the run ids, the sha256.

No farm is reachable from here: the spec is checked for form (tests/test_android_driver.py).
"""

from __future__ import annotations

import hashlib
import json
import shlex
import shutil
import zipfile
from pathlib import Path
from typing import Any

from .device import PACKAGE, REMOTE_DIR, android_files
from .run import FAILED_FILE, RESULT_FILE, RunSettings, start_command

SCHEMA = "coordatt.devicefarm/1"
SPEC = "testspec.yml"
PAYLOAD = "coordatt.zip"
MANIFEST = "manifest.json"
UDID = '"$DEVICEFARM_DEVICE_UDID"'
POLL_S = 5


def _adb(command: str) -> str:
    return f"adb -s {UDID} {command}"


def _shell(*args: str) -> str:
    return _adb("shell " + shlex.join(args))


def _wait_script(run: RunSettings, package: str, timeout_s: float) -> str:
    """Wait for this run's results or the app's failure file (each names its run_id), at most
    timeout_s."""
    out = f'"$DEVICEFARM_LOG_DIR/benchmark_results_{run.threads}t.json"'
    cat = _shell("run-as", package, "cat", RESULT_FILE)
    failed = _shell("run-as", package, "cat", FAILED_FILE)
    failed_out = '"$DEVICEFARM_LOG_DIR/benchmark_failed.txt"'
    return "\n".join([
        f"end=$(( $(date +%s) + {int(timeout_s)} ))",
        "while true; do",
        f"  if {cat} > {out} 2>/dev/null && grep -q {run.run_id} {out}; then",
        f"    echo 'coordatt-bench: results of run {run.run_id} ({run.threads} thread(s))'",
        "    break",
        "  fi",
        f"  if {failed} > {failed_out} 2>/dev/null && grep -q {run.run_id} {failed_out}; then",
        f"    echo \"coordatt-bench: the app gave up: $(tail -n +2 {failed_out})\"",
        "    exit 1",
        "  fi",
        "  if [ \"$(date +%s)\" -ge \"$end\" ]; then",
        f"    echo 'coordatt-bench: no results with run_id {run.run_id} within "
        f"{int(timeout_s)} s'",
        "    exit 1",
        "  fi",
        f"  sleep {POLL_S}",
        "done",
    ])


def spec_phases(runs: list[RunSettings], payload_sha256: str, *, package: str = PACKAGE,
                remote_dir: str = REMOTE_DIR, timeout_s: float = 600.0
                ) -> dict[str, list[str]]:
    """The commands of each phase, in order."""
    parent = str(Path(remote_dir).parent)
    name = Path(remote_dir).name
    pre_test = [
        f'curl -s --fail "$COORDATT_PAYLOAD_URL" -o {PAYLOAD}',
        f"echo '{payload_sha256}  {PAYLOAD}' | sha256sum -c -",
        f"rm -rf {name} && unzip -q {PAYLOAD} && ls -la {name}",
        _shell("am", "force-stop", package),
        _shell("rm", "-rf", remote_dir),
        _adb(f"push {name} {parent}/ > /dev/null && echo pushed"),
        _shell("chmod", "-R", "o+rX", remote_dir),
        _shell("run-as", package, "rm", "-f", RESULT_FILE, "files/benchmark_results.partial.json",
               FAILED_FILE),
        _shell("input", "keyevent", "KEYCODE_WAKEUP"),
        _shell("wm", "dismiss-keyguard"),
        _shell("svc", "power", "stayon", "usb"),
    ]
    test = [_shell("getprop") + ' > "$DEVICEFARM_LOG_DIR/getprop.txt"']
    for run in runs:
        test += [_adb("logcat -c"),
                 _adb("shell " + shlex.join(start_command(run, package, remote_dir))),
                 _wait_script(run, package, timeout_s)]
    post_test = [
        _adb("logcat -d -s 'coordatt:*' 'coordatt-bench:*' 'AndroidRuntime:E'") +
        ' > "$DEVICEFARM_LOG_DIR/logcat.txt"',
        _shell("run-as", package, "cat", "files/benchmark_results.partial.json") +
        ' > "$DEVICEFARM_LOG_DIR/benchmark_results.partial.json" || true',
        _shell("svc", "power", "stayon", "false"),
    ]
    return {"install": ["echo 'coordatt-bench: nothing to install: the app is the APK of the run'"],
            "pre_test": pre_test, "test": test, "post_test": post_test}


def _yaml_item(command: str, indent: str) -> list[str]:
    """One list item: a JSON string (a valid YAML double-quoted scalar) or, for a script of
    several lines, a literal block (its lines kept as they are)."""
    if "\n" not in command:
        return [f"{indent}- {json.dumps(command)}"]
    return [f"{indent}- |", *(f"{indent}    {line}" if line else "" for line in
                              command.split("\n"))]


def render_spec(phases: dict[str, list[str]], header: list[str] | None = None) -> str:
    """The test spec as YAML (Device Farm test spec version 0.1, Amazon Linux 2 host)."""
    lines = [f"# {line}" for line in header or []]
    lines += ["version: 0.1", "", "android_test_host: amazon_linux_2", "", "phases:"]
    for phase, commands in phases.items():
        lines += [f"  {phase}:", "    commands:"]
        for command in commands:
            lines += _yaml_item(command, "      ")
        lines.append("")
    lines += ["artifacts:", "  - $DEVICEFARM_LOG_DIR", ""]
    return "\n".join(lines)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_farm_job(out_dir: Path, artifacts: list[Path], runs: list[RunSettings], *,
                   apk: Path | None = None, eval_folder: Path | None = None,
                   timeout_s: float = 600.0, package: str = PACKAGE,
                   remote_dir: str = REMOTE_DIR) -> dict[str, Path]:
    """Write the job into ``out_dir``; returns {"spec", "payload", "manifest", "readme"[,
    "apk"]} -> path. ArtifactError for an artifact the app cannot run."""
    from dataclasses import replace

    from .adb import ArtifactError

    files = [android_files(Path(p)) for p in artifacts if not Path(p).is_dir()]
    if not files:
        raise ArtifactError("no .pte, .onnx or .tflite artifact for the farm job; export one "
                            "with coordatt-export")
    if apk is not None and not Path(apk).is_file():
        raise ArtifactError(f"APK {str(apk)!r} does not exist; build it with './gradlew "
                            "assembleDebug' in android_demo/")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    name = Path(remote_dir).name
    payload = out_dir / PAYLOAD
    tmp = payload.with_name(payload.name + ".tmp")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zf:
        for group in files:
            for path in group:
                zf.write(path, f"{name}/{path.name}")
        if eval_folder is not None:
            for path in sorted(Path(eval_folder).iterdir()):
                zf.write(path, f"{name}/{Path(eval_folder).name}/{path.name}")
    tmp.replace(payload)
    sha = _sha256(payload)
    if eval_folder is not None:
        runs = [replace(r, eval_dir=f"{remote_dir}/{Path(eval_folder).name}") for r in runs]
    header = ["coordatt-bench --farm-spec: AWS Device Farm custom test spec (see README.md).",
              f"Needs the run's environment variable COORDATT_PAYLOAD_URL -> {PAYLOAD} "
              f"(sha256 {sha[:16]}...)."]
    spec = out_dir / SPEC
    spec.write_text(render_spec(spec_phases(runs, sha, package=package, remote_dir=remote_dir,
                                            timeout_s=timeout_s), header), encoding="utf-8")
    paths = {"spec": spec, "payload": payload}
    if apk is not None:
        paths["apk"] = out_dir / Path(apk).name
        if Path(apk).resolve() != paths["apk"].resolve():
            shutil.copyfile(apk, paths["apk"])
    manifest: dict[str, Any] = {
        "schema": SCHEMA, "package": package, "remote_dir": remote_dir,
        "app": paths["apk"].name if "apk" in paths else None,
        "test_spec": SPEC,
        "payload": {"file": PAYLOAD, "sha256": sha, "env": "COORDATT_PAYLOAD_URL",
                    "files": [p.name for group in files for p in group]
                    + ([f"{Path(eval_folder).name}/"] if eval_folder else [])},
        "runs": [{"run_id": r.run_id, "threads": r.threads, "iters": r.iters,
                  "warmup": r.warmup, "rounds": r.block_rounds, "cooldown_ms": r.cooldown_ms,
                  "runtimes": list(r.runtimes) if r.runtimes else None,
                  "eval_dir": r.eval_dir, "result": f"benchmark_results_{r.threads}t.json",
                  "am_start": shlex.join(start_command(r, package, remote_dir))}
                 for r in runs],
        "timeout_s_per_run": timeout_s,
    }
    paths["manifest"] = out_dir / MANIFEST
    paths["manifest"].write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    paths["readme"] = out_dir / "README.md"
    paths["readme"].write_text(_readme(manifest), encoding="utf-8")
    return paths


def _readme(manifest: dict[str, Any]) -> str:
    app = manifest["app"] or "app-debug.apk (build it: ./gradlew assembleDebug in android_demo/)"
    runs = "\n".join(f"- {r['threads']} thread(s): run_id `{r['run_id']}` -> "
                     f"`{r['result']}`" for r in manifest["runs"])
    return f"""# A coordatt-bench run for AWS Device Farm

Written by `coordatt-bench --device android --farm-spec`. Nothing here was run on a farm.

Upload:
1. **App**: `{app}` (the demo app's debug build: the spec reads its results with `run-as`).
2. **Payload**: `{manifest['payload']['file']}` (sha256 `{manifest['payload']['sha256']}`) to
   storage the farm's host can fetch (e.g. a presigned S3 URL), and set the run's custom
   environment variable `{manifest['payload']['env']}` to that URL. The spec checks the sha256.
3. **Test spec**: `{manifest['test_spec']}`, as the custom environment of a run whose test type
   allows one (ExecuTorch's benchmark jobs use the instrumentation type).

Runs (one app start each, `am start -S -W` with the extras in `manifest.json`):
{runs}

Afterwards, download the run's `$DEVICEFARM_LOG_DIR` artifacts and fold the results into a
table: `coordatt-bench --from-device-log benchmark_results_1t.json ...`. A file whose
`config.run_id` is not one of the ids above is not this job's.
"""
