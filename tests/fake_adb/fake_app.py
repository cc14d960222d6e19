"""What the demo app's BenchmarkActivity writes, for tests/fake_adb/adb (docs/formats.md,
"Benchmark results" and "Android benchmark run"): rows in the documented field order for every
runtime that can run a pushed artifact, the run's config with its run_id, memory, conditions,
the check file's verdict and, with an eval_dir, accuracy on eval_labels.csv.

Nothing is inferred: latencies are seeded random numbers; predictions on the eval images are
eager's (``eager_top1``), except one in four on int8 artifacts, so agreement and top-1 drop.
Scenarios (``behaviour``): "hot" (thermal status severe, the screen off from the second
artifact, out of the foreground on the last), "check-failed" (every int8 artifact's check
fails).
"""

import csv
import hashlib
import importlib.util
import io
import json
import random
from pathlib import Path

FIELDS = ("model", "width_mult", "input_size", "runtime", "precision", "threads", "device",
          "device_info", "artifact", "load_ms", "warmup", "iters", "samples_ms", "min_ms",
          "median_ms", "p90_ms", "mean_ms", "trimmed_mean_ms", "std_ms", "peak_rss_mb",
          "max_abs_diff", "top1", "top5", "top1_agreement", "eval_images", "eval_skipped",
          "source", "error", "memory", "conditions", "check", "flagged")
IMAGE_MAGIC = (b"\x89PNG", b"\xff\xd8\xff")


def _summarize():
    """coordatt's own statistics (stats.py loaded alone: no torch import), as the app's."""
    stats_py = Path(__file__).resolve().parents[2] / "coordatt" / "bench" / "stats.py"
    spec = importlib.util.spec_from_file_location("coordatt_stats", stats_py)
    stats = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(stats)
    return stats.summarize


def runtimes_of(artifact: Path, sidecar: dict) -> list[str]:
    int8 = sidecar.get("precision") == "int8"
    if artifact.suffix == ".pte":
        return ["executorch-" + sidecar["backend"] + ("-int8" if int8 else "")]
    if artifact.suffix == ".onnx":
        return ["onnxruntime" + ("-int8" if int8 else ""),
                "onnxruntime-xnnpack" + ("-int8" if int8 else "")]
    return ["litert" + ("-int8" if int8 else "")]


def check_entry(artifact: Path, sidecar: dict, failing: bool) -> dict:
    path = artifact.with_name(artifact.name + ".check.bin")
    entry = {"status": "missing", "file": None, "max_abs_diff": None, "cosine": None,
             "top1_agreement": None, "message": "no check file pushed"}
    if not path.is_file():
        return entry
    entry.update(file=path.name, message=None)
    want = (sidecar.get("check") or {}).get("sha256")
    if want and hashlib.sha256(path.read_bytes()).hexdigest() != want:
        entry.update(status="error", message="sha256 differs from the sidecar's: damaged file")
    elif failing:
        entry.update(status="failed", max_abs_diff=0.81, cosine=0.62, top1_agreement=0.4,
                     message="cosine 0.62 < 0.95")
    else:
        entry.update(status="passed", max_abs_diff=1.2e-6, cosine=1.0, top1_agreement=1.0)
    return entry


def evaluate(eval_dir: Path, labels: list, int8: bool) -> dict:
    text = (eval_dir / "eval_labels.csv").read_text(encoding="utf-8")
    used = skipped = right = agree = with_eager = 0
    for i, row in enumerate(csv.DictReader(io.StringIO(text))):
        image = eval_dir / row["file"]
        ok = image.is_file() and image.read_bytes()[:4].startswith(IMAGE_MAGIC)
        if not ok or row["class"] not in labels:
            skipped += 1
            continue
        truth = labels.index(row["class"])
        eager = int(row["eager_top1"]) if row["eager_top1"] else None
        pred = truth if eager is None else eager
        if int8 and i % 4 == 3:
            pred = (pred + 1) % len(labels)
        used += 1
        right += pred == truth
        if eager is not None:
            with_eager += 1
            agree += pred == eager
    top1 = right / used if used else None
    return {"top1": top1, "top5": (1.0 if len(labels) <= 5 else top1) if used else None,
            "top1_agreement": agree / with_eager if with_eager else None,
            "eval_images": used, "eval_skipped": skipped}


def results(model_dir: Path, extras: dict, model: str, behaviour: str,
            eval_dir: Path | None = None) -> tuple[dict, list]:
    """(document, rows) of one run over every artifact in ``model_dir`` (local folders)."""
    summarize = _summarize()
    iters, warmup = int(extras.get("iters", 50)), int(extras.get("warmup", 10))
    threads, rounds = int(extras.get("threads", 1)), int(extras.get("rounds", 1))
    wanted = [r for r in extras.get("runtimes", "").split(",") if r]
    artifacts = [a for a in sorted(model_dir.glob("*")) if a.suffix in (".pte", ".onnx",
                                                                         ".tflite")]
    rows = []
    for n, artifact in enumerate(artifacts):
        sidecar = json.loads(artifact.with_name(artifact.name + ".json").read_text())
        int8 = sidecar["precision"] == "int8"
        for runtime in runtimes_of(artifact, sidecar):
            if wanted and runtime not in wanted:
                continue
            rng = random.Random(artifact.name + runtime)
            base = 6.0 if int8 else 9.0
            samples = [round(base + rng.random() * 1.5, 4) for _ in range(iters)]
            check = check_entry(artifact, sidecar, behaviour == "check-failed" and int8)
            hot = behaviour == "hot"
            accuracy = dict.fromkeys(("top1", "top5", "top1_agreement", "eval_images",
                                      "eval_skipped"))
            if eval_dir is not None:
                accuracy = evaluate(eval_dir, sidecar["labels"], int8)
            row = {
                "model": sidecar.get("name") or sidecar["model"],
                "width_mult": sidecar["width_mult"],
                "input_size": sidecar["input"]["shape"][2:],
                "runtime": runtime, "precision": sidecar["precision"], "threads": threads,
                "device": model,
                "device_info": {"soc": None, "abi": None, "android": None, "api_level": 35,
                                "runtimes": {"executorch": "1.5.1", "onnxruntime": "1.29.0",
                                             "litert": "1.4.0"}},
                "artifact": artifact.name, "load_ms": round(20 + rng.random() * 5, 3),
                "warmup": warmup, "iters": iters, "samples_ms": samples, **summarize(samples),
                "peak_rss_mb": None, "max_abs_diff": check["max_abs_diff"], **accuracy,
                "source": "android-app", "error": None,
                "memory": {"pss_baseline_mb": 60.0 + n, "pss_after_load_mb": 72.5 + n,
                           "pss_peak_mb": 80.5 + n, "pss_delta_mb": 20.5,
                           "native_heap_delta_mb": 14.0},
                "conditions": {"thermal_status_start": 3 if hot else 0,
                               "thermal_status_end": 3 if hot else 0,
                               "thermal_headroom_start": 1.1 if hot else 0.4,
                               "thermal_headroom_end": 1.2 if hot else 0.45,
                               "battery_temp_c": 44.5 if hot else 31.0,
                               "screen_on": not (hot and n >= 1),
                               "foreground": not (hot and n == len(artifacts) - 1)},
                "check": check,
                # as the app: a check that failed or could not run (damaged file) flags the row
                "flagged": f"check failed: {check['message']}"
                if check["status"] in ("failed", "error") else None,
            }
            assert tuple(row) == FIELDS  # the documented order
            rows.append(row)
    eval_config = None
    if eval_dir is not None:
        text = (eval_dir / "eval_labels.csv").read_text(encoding="utf-8")
        eval_config = {"dir": extras["eval_dir"],
                       "images": len(list(csv.DictReader(io.StringIO(text))))}
    doc = {
        "schema": "coordatt.bench/1",
        "machine": {"cpu": "arm64-v8a", "cores": 8, "isa": ["neon", "dotprod"],
                    "os": "Android 15", "python": None, "versions": {}},
        "config": {"warmup": warmup, "iters": iters, "block_size": -(-iters // rounds),
                   "rounds": rounds, "cooldown_ms": int(extras.get("cooldown_ms", 0)),
                   "threads": threads, "run_id": extras.get("run_id"), "eval": eval_config},
        "results": rows,
    }
    return doc, rows
