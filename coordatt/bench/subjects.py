"""What the harness measures: one ``Subject`` per model, with its eager network (when it can be
built), its input preprocessed as its sidecars say, and the artifact each runtime runs.

Two ways to get them: from model names (``subjects_from_config``: artifacts reused when their
sidecar matches, exported when missing) or from a folder of artifacts (``discover``: whatever
the sidecars describe, of any model, registered or not).
"""

from __future__ import annotations

import json
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import CoordattError, check_regular_file, file_kind
from ..export.pipeline import ExportConfig, export, plan
from ..export.sidecar import KNOWN_SCHEMAS, SCHEMA, read_sidecar, sha256_path, sidecar_path
from ..export.subject import ModelInfo, prepare_from_config
from ..preprocess import load_image, sample_images
from ..runtime import get as runtime_spec
from ..runtime import runtime_for, unavailable_reason

__all__ = ["Subject", "subjects_from_config", "discover", "runtime_of", "check_artifact"]

_EXTENSIONS = {"pte": ".pte", "onnx": ".onnx", "tflite": ".tflite", "coreml": ".mlpackage"}


@dataclass
class Subject:
    """One model to measure on several runtimes."""

    label: str  # the rows' "model"
    width_mult: float | None
    input_size: tuple[int, int]
    x: np.ndarray  # float32 [1, 3, H, W], preprocessed as the sidecars say (one preprocess)
    network: object | None = None  # the eval-mode nn.Module, when it can be built
    reference: np.ndarray | None = None  # eager logits on x
    eager_error: str | None = None  # why there is no eager row
    artifacts: dict[str, Path | str] = field(default_factory=dict)  # runtime -> path | error
    sidecar: dict | None = None  # a sidecar of the group (labels, preprocess), when discovered


def runtime_of(sidecar: dict) -> str | None:
    """The harness runtime that runs an artifact with this sidecar, or None."""
    return runtime_for(sidecar.get("format"), sidecar.get("backend"), sidecar.get("precision"))


def _input_for(info_preprocess: dict) -> np.ndarray:
    return load_image(sample_images()[0], info_preprocess).numpy()


def _with_reference(subject: Subject) -> Subject:
    import torch

    if subject.network is not None:
        with torch.no_grad():
            subject.reference = subject.network(torch.from_numpy(subject.x)).numpy()
    return subject


def _kind_error(path: Path, want_dir: bool) -> str | None:
    """Why ``path`` is not what its format stores (a file; a folder for Core ML), or None."""
    try:
        mode = os.stat(path).st_mode
    except OSError as e:
        return f"{path.name}: {e.strerror}"
    if stat.S_ISDIR(mode) if want_dir else stat.S_ISREG(mode):
        return None
    return f"{path.name} is not a {'folder' if want_dir else 'regular file'} ({file_kind(mode)})"


def _onnx_input_shape(path: Path) -> list | None:
    """The first graph input's dimensions as stored in the .onnx (None without the onnx
    package); a symbolic dimension is its name."""
    try:
        import onnx
    except ImportError:
        return None
    graph = onnx.load(str(path), load_external_data=False).graph
    inputs = [i for i in graph.input if i.name not in {t.name for t in graph.initializer}]
    if not inputs:
        return []
    dims = inputs[0].type.tensor_type.shape.dim
    return [d.dim_value if d.HasField("dim_value") else d.dim_param for d in dims]


def check_runtime(path: Path, sidecar: dict, runtime: str) -> None:
    """Raise CoordattError when the sidecar's format, backend and precision are not what
    ``runtime`` runs (the row would be labelled with a precision it does not measure)."""
    spec = runtime_spec(runtime)
    fmt, backend, precision = spec.format, spec.backend, spec.precision
    got = (sidecar.get("format"), sidecar.get("backend"), sidecar.get("precision"))
    ok = got[0] == "coreml" and got[2] in ("fp16", "fp32") if fmt == "coreml" else \
        got == (fmt, backend, precision)
    if not ok:
        raise CoordattError(f"{path.name}: its sidecar says format/backend/precision "
                            f"{'/'.join(map(str, got))}, but {runtime} runs "
                            f"{fmt}/{backend}/{precision}")


def check_artifact(path: Path, sidecar: dict, identity: dict | None = None,
                   runtime: str | None = None) -> None:
    """Raise CoordattError (a row's error) when the artifact and its sidecar disagree, or the
    sidecar disagrees with ``identity`` (the model it should hold) or with ``runtime``.

    Checked: the file kind (never a FIFO or device: nothing is opened before), the format
    against the extension, backend and precision against the runtime, the input shape against
    the input size and, for ONNX, the graph's real input, the preprocessing against the
    identity's, a recorded failed verification, and the sha256 of the bytes."""
    if identity is not None and sidecar.get("identity") != identity:
        got = sidecar.get("identity") or {}
        diff = [f"{k} {got.get(k)!r} (expected {v!r})" for k, v in identity.items()
                if got.get(k) != v]
        raise CoordattError(f"{path.name}: its sidecar does not match the model: "
                            f"{'; '.join(diff)[:200] or 'schema ' + str(sidecar.get('schema'))}")
    if sidecar.get("schema") != SCHEMA:
        raise CoordattError(f"{path.name}: sidecar schema {sidecar.get('schema')!r} is from an "
                            f"earlier coordatt; re-export it")
    status = (sidecar.get("verification") or {}).get("status")
    if status == "failed":
        raise CoordattError(f"{path.name}: its sidecar records a failed verification")
    fmt = sidecar.get("format")
    if _EXTENSIONS.get(fmt) != path.suffix:
        raise CoordattError(f"{path.name}: the sidecar says format {fmt!r}, the file is "
                            f"{path.suffix or 'without extension'}")
    if (bad := _kind_error(path, want_dir=fmt == "coreml")) is not None:
        raise CoordattError(bad)
    if runtime is not None:
        check_runtime(path, sidecar, runtime)
    own = sidecar.get("identity") or {}
    size = own.get("input_size")
    shape = (sidecar.get("input") or {}).get("shape")
    if not (isinstance(size, list) and shape == [1, 3, *size]):
        raise CoordattError(f"{path.name}: the sidecar's input shape {shape} does not match its "
                            f"input size {size}")
    if "preprocess" in own and sidecar.get("preprocess") != own["preprocess"]:
        raise CoordattError(f"{path.name}: the sidecar's preprocess differs from the one in its "
                            f"identity; re-export it")
    if fmt == "onnx":
        try:
            real = _onnx_input_shape(path)
        except Exception:  # not a protobuf: the sha256 below or the runtime's load says so
            real = None
        if real is not None and real != shape:
            raise CoordattError(f"{path.name}: its graph's input is {real}, the sidecar says "
                                f"{shape}")
    if sha256_path(path)[0] != sidecar.get("sha256"):
        raise CoordattError(f"{path.name} does not match its sidecar's sha256: corrupt or "
                            f"modified; re-export it")


def _export_config(config, model: str, runtime: str | None = None) -> ExportConfig:
    """The export settings of the artifact ``runtime`` runs (fp32 pte settings for eager)."""
    spec = runtime_spec(runtime or "executorch-xnnpack")
    if spec.format is None:  # eager: the fp32 .pte's settings
        spec = runtime_spec("executorch-xnnpack")
    fmt, backend, quantize, precision = spec.format, spec.backend, spec.quantize, spec.precision
    return ExportConfig(
        model=model, width_mult=config.width_mult, input_size=config.input_size,
        weights=config.weights, quantize=quantize,
        # int8 calibrates on the bundled photos, as `make demo` does
        calibration_dir=sample_images()[0].parent if quantize == "int8" else None,
        backend=backend if fmt == "pte" else "xnnpack",
        coreml_precision=precision if fmt == "coreml" else "fp16",
        output_dir=config.artifacts_dir)


def artifact_for(config, model: str, runtime: str, info: ModelInfo | None = None, *,
                 progress: bool = True) -> Path:
    """The artifact ``runtime`` runs: reused when its sidecar matches, exported when missing.
    Raises CoordattError (a row's error) for a mismatched, foreign or corrupt one."""
    export_config = _export_config(config, model, runtime)
    fmt = runtime_spec(runtime).format
    (target,) = plan(export_config, [fmt])
    path = target.path
    if not path.exists():
        export(export_config, [fmt], verbose=config.verbose, progress=progress)
        return path
    side = sidecar_path(path)
    if os.path.lexists(side):
        try:
            check_regular_file(side, "sidecar")
        except ValueError as e:
            raise CoordattError(str(e)) from None
    sidecar = read_sidecar(path)
    if sidecar is None:
        raise CoordattError(f"{path.name} has no coordatt sidecar ({path.name}.json); re-export "
                            f"it with coordatt-export --overwrite")
    if info is None:
        info = prepare_from_config(export_config)
    check_artifact(path, sidecar, info.identity(export_config.quantize,
                                                export_config.calibration_dir,
                                                export_config.int8_recipe), runtime)
    return path


def subjects_from_config(config) -> list[Subject]:
    """One subject per ``config.models`` name, its artifacts found or exported."""
    subjects = []
    for model in config.models:
        info = prepare_from_config(_export_config(config, model))
        subject = Subject(model, info.width_mult, info.input_size, _input_for(info.preprocess),
                          info.model)
        for runtime in config.runtimes:
            if runtime == "eager" or unavailable_reason(runtime):
                continue
            try:
                subject.artifacts[runtime] = artifact_for(config, model, runtime, info)
            except (CoordattError, ValueError) as e:
                subject.artifacts[runtime] = str(e)
        subjects.append(_with_reference(subject))
    return subjects


def _group_key(sidecar: dict) -> tuple:
    """Artifacts of one model fed one input: each group is preprocessed as its sidecars say."""
    identity = sidecar["identity"]
    keep = ("model", "name", "width_mult", "input_size", "num_classes", "weights_sha256")
    preprocess = json.dumps(sidecar.get("preprocess"), sort_keys=True, default=str)
    return (*(str(identity.get(k)) for k in keep), preprocess)


def _rebuild(sidecar: dict) -> tuple[object | None, str | None]:
    """The eager network a sidecar was exported from, when it can be built here."""
    identity = sidecar["identity"]
    spec = str(identity.get("model"))
    if spec.startswith("module:"):
        return None, "exported from an in-memory model (export_model): no eager row"
    weights = sidecar.get("weights") or {}
    path = None
    if weights.get("pretrained"):
        path = Path(str(weights.get("source")))
        if not path.is_file():
            return None, f"its weights {path} are not here: no eager row"
    try:
        info = prepare_from_config(ExportConfig(
            model=spec, width_mult=identity.get("width_mult"),
            input_size=tuple(identity["input_size"]), weights=path,
            num_classes=identity.get("num_classes"), labels=tuple(sidecar["labels"])))
    except Exception as e:  # a factory that moved, a registry name this version lacks, ...
        text = (str(e).strip().splitlines() or [""])[0][:160]
        return None, f"cannot rebuild {spec}: {text}"
    if info.weights["sha256"] != identity.get("weights_sha256"):
        return None, f"{spec} rebuilt here has other weights than the artifacts: no eager row"
    return info.model, None


def discover(folder: Path, runtimes: tuple[str, ...]) -> list[Subject]:
    """Subjects for every artifact in ``folder`` that has a coordatt sidecar, grouped by the
    model they hold; ValueError when the folder has none."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ValueError(f"artifacts folder not found: {folder}")
    found: dict[tuple, list[tuple[Path, dict]]] = {}
    for side in sorted(folder.glob("*.json")):
        artifact = side.with_name(side.name[: -len(".json")])
        if not os.path.lexists(artifact):
            continue
        check_regular_file(side, "sidecar")  # a FIFO named *.json would block the read
        sidecar = read_sidecar(artifact)
        if sidecar is None or not isinstance(sidecar.get("identity"), dict):
            continue
        found.setdefault(_group_key(sidecar), []).append((artifact, sidecar))
    if not found:
        raise ValueError(f"no artifacts with a coordatt sidecar ({', '.join(KNOWN_SCHEMAS)}) "
                         f"in {folder}")
    subjects = []
    for group in found.values():
        first = group[0][1]
        identity = first["identity"]
        try:
            x = _input_for(first["preprocess"])
        except (KeyError, TypeError, ValueError) as e:
            x, bad = None, f"{group[0][0].name}: unusable preprocess in its sidecar ({e})"
        else:
            bad = None
        label = str(first.get("name") or identity.get("model"))
        size = tuple(identity.get("input_size") or (0, 0))
        subject = Subject(label, identity.get("width_mult"), size,
                          x if x is not None else np.zeros((1, 3, *size), np.float32),
                          sidecar=first)
        if "eager" in runtimes:
            subject.network, subject.eager_error = _rebuild(first) if bad is None else (None, bad)
        for artifact, sidecar in group:
            runtime = runtime_of(sidecar)
            if runtime is None or runtime not in runtimes:
                continue
            try:
                if bad:
                    raise CoordattError(bad)
                check_artifact(artifact, sidecar, runtime=runtime)
                shape = (sidecar.get("input") or {}).get("shape")
                if list(subject.x.shape) != shape:
                    raise CoordattError(f"{artifact.name}: its preprocess gives an input of "
                                        f"{list(subject.x.shape)}, its sidecar says {shape}")
                subject.artifacts[runtime] = artifact
            except CoordattError as e:
                subject.artifacts[runtime] = str(e)
        subjects.append(_with_reference(subject))
    return subjects
