"""Artifact sidecars (``<artifact>.json``, docs/formats.md), hashing and the temporaries that
placement.py moves into place.

The sidecar is the single source of truth for preprocessing: the latency harness and the Android
app read it. Its ``identity`` says what the artifact was exported from, so a re-export of the
same thing may replace it while anything else is never overwritten without ``--overwrite``.
"""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
import json
import os
import shutil
import stat
import tempfile
from importlib import metadata
from pathlib import Path

from ..check_file import MAGIC as CHECK_MAGIC
from ..check_file import check_path
from ..errors import ExportError, check_regular_file, file_kind

__all__ = ["SCHEMA", "sidecar_path", "read_sidecar", "make_sidecar",
           "check_overwrite", "sha256_file", "sha256_path", "write_json_temporary",
           "replace_path",
           "runtime_versions"]

SCHEMA = "coordatt.artifact/2"
# earlier schemas: still recognised as ours (never replaced as foreign), never reused as current
KNOWN_SCHEMAS = ("coordatt.artifact/1", SCHEMA)
_PACKAGES = ("coordatt", "torch", "executorch", "torchao", "onnx", "onnxruntime", "onnxscript",
             "litert-torch", "ai-edge-litert", "coremltools", "numpy")


def sidecar_path(artifact: Path) -> Path:
    return artifact.with_name(artifact.name + ".json")


def read_sidecar(artifact: Path) -> dict | None:
    """The sidecar of ``artifact`` if it exists and is one of ours, else None."""
    try:
        doc = json.loads(sidecar_path(artifact).read_text())
    except (OSError, ValueError):
        return None
    return doc if isinstance(doc, dict) and doc.get("schema") in KNOWN_SCHEMAS else None


def runtime_versions() -> dict[str, str]:
    versions = {}
    for name in _PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    return versions


def sha256_file(path: Path) -> str:
    """sha256 of a regular file; ExportError for anything else (a FIFO would block the open, a
    device never end the read), checked on the opened file itself."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as e:
        raise ExportError(f"cannot read {path}: {e.strerror or e}") from None
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        raise ExportError(f"{path} is not a regular file ({file_kind(mode)})")
    digest = hashlib.sha256()
    with os.fdopen(fd, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def sha256_path(path: Path) -> tuple[str, int]:
    """sha256 and size of a file, or of a directory's files (sorted by relative path)."""
    if not path.is_dir():
        return sha256_file(path), path.stat().st_size
    digest, size = hashlib.sha256(), 0
    for file in sorted(p for p in path.rglob("*") if p.is_file()):
        digest.update(file.relative_to(path).as_posix().encode() + b"\0")
        digest.update(bytes.fromhex(sha256_file(file)))
        size += file.stat().st_size
    return digest.hexdigest(), size


def _unchanged(artifact: Path, doc: dict) -> bool:
    """The artifact is what its sidecar describes (or is gone): its sha256 matches."""
    if not os.path.lexists(artifact):
        return True
    try:
        return sha256_path(artifact)[0] == doc.get("sha256")
    except (OSError, ExportError):
        return False  # a FIFO, a device, unreadable: not the file the sidecar describes


def check_overwrite(artifact: Path, identity: dict, overwrite: bool) -> None:
    """Refuse to replace a file that is not an earlier export of the same thing, unchanged since:
    its sidecar is ours, has the same identity, and the artifact's sha256 is the sidecar's."""
    json_path = sidecar_path(artifact)
    has_artifact, has_json = os.path.lexists(artifact), os.path.lexists(json_path)
    if overwrite:
        return
    if not (has_artifact or has_json):
        _check_lone_check_file(artifact)
        return
    doc = read_sidecar(artifact)
    if doc is not None and doc.get("identity") == identity and _unchanged(artifact, doc):
        return
    if doc is None:
        why = "was not written by coordatt-export"
    elif doc.get("identity") != identity:
        why = "was exported from other settings or weights"
    else:
        why = "was changed after its export (its sha256 is not the one its sidecar records)"
    clash = artifact if has_artifact else json_path  # a sidecar alone: name the .json
    raise ExportError(f"{clash} exists and {why}; pass --overwrite to replace it, "
                      f"or choose another --output-dir")


def _check_lone_check_file(artifact: Path) -> None:
    """A check file without its artifact and sidecar is replaced only when it is one of ours
    (its magic says so): a stranger's file of that name is refused like any other."""
    path = check_path(artifact)
    if not os.path.lexists(path):
        return
    try:
        check_regular_file(path, "check file", ExportError)
        with open(path, "rb") as f:
            ours = f.read(len(CHECK_MAGIC)) == CHECK_MAGIC
    except (OSError, ExportError):
        ours = False
    if not ours:
        raise ExportError(f"{path} exists and was not written by coordatt-export; pass "
                          f"--overwrite to replace it, or choose another --output-dir")


def make_sidecar(target, config, info, identity: dict, artifact: Path, report: dict,
                 verification: dict, seconds: float) -> dict:
    """The sidecar of ``artifact``, exported from ``info`` (a subject.ModelInfo) by ``config``."""
    h, w = info.input_size
    sha, size = sha256_path(artifact)
    settings = {k: (str(v) if isinstance(v, Path) else v)
                for k, v in dataclasses.asdict(config).items()}
    return {
        "schema": SCHEMA,
        "artifact": artifact.name,
        "format": target.format,
        "model": info.spec,
        "name": info.name,
        "width_mult": info.width_mult,
        "num_classes": info.num_classes,
        "backend": target.backend,
        "precision": target.precision,
        "input": {"name": "image", "shape": [1, 3, h, w], "dtype": "float32", "layout": "NCHW",
                  "color": "RGB"},
        "output": {"name": "logits", "shape": [1, info.num_classes], "dtype": "float32",
                   "activation": "none"},
        "preprocess": info.preprocess,
        "labels": info.labels,
        "labels_source": info.labels_source,
        "weights": info.weights,
        "identity": identity,
        "sha256": sha,
        "size_bytes": size,
        "export": {**settings, "seconds": round(seconds, 2), "report": report},
        "versions": runtime_versions(),
        "verification": verification,
        "created_utc": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


def write_json_temporary(path: Path, doc: dict) -> Path:
    """``doc`` written whole into a temporary beside ``path`` (``.tmp-<pid>-<name>-...``, the
    umask's mode), to be moved onto ``path``; the pid in the name lets a later run tell a dead
    process's leftover from a live one's."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".tmp-{os.getpid()}-{path.name}-")
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes it private; a sidecar is not
        with os.fdopen(fd, "w") as f:
            json.dump(doc, f, indent=2, allow_nan=False)
            f.write("\n")
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return Path(tmp)


def replace_path(src: Path, dst: Path) -> None:
    """Move ``src`` (a file or a directory such as an .mlpackage) to ``dst``, replacing it."""
    if src.is_dir():
        old = dst.with_name(f".old-{os.getpid()}-{dst.name}")
        if dst.exists():
            os.replace(dst, old)
        os.replace(src, dst)
        if old.exists():
            shutil.rmtree(old) if old.is_dir() else old.unlink()
    else:
        if dst.is_dir():
            shutil.rmtree(dst)
        os.replace(src, dst)
