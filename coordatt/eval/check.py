"""``coordatt-eval --check``: run an artifact on its check file (coordatt/check_file.py) in its
own runtime and judge the outputs by the rule the export recorded (export/verify.py), so the
verdict here is the export's own, wherever the artifact runs (on macOS this is how a
``.mlpackage`` gets its numeric check).

For int8 artifacts the check file holds eager fp32 outputs: the verdict is the export's against
fp32 (SQNR, cosine, top-1 agreement); its comparison with the quantized PyTorch program needs
PyTorch and is not repeated.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .._quiet import quiet
from ..bench.subjects import check_artifact, runtime_of
from ..check_file import CheckData, CheckFileError, read_check_file
from ..errors import CoordattError, ExportError
from ..export.sidecar import read_sidecar, sha256_file, sidecar_path
from ..runtime import open_session, unavailable_reason

__all__ = ["CheckRow", "load_check", "judge", "run_check", "check_artifacts", "artifacts_in",
           "STATUSES"]

# passed / failed: judged; skipped: the runtime cannot run here; no check file: exported
# before check files (or the file was removed); error: the artifact or its check file is bad
STATUSES = ("passed", "failed", "skipped", "no check file", "error")


@dataclass
class CheckRow:
    artifact: str
    runtime: str | None
    precision: str | None
    status: str
    message: str
    inputs: int = 0
    metrics: dict | None = None  # compare_logits' numbers on the check inputs, here
    exported: dict | None = None  # the same numbers measured at export time, on its host

    def to_dict(self) -> dict:
        return dict(self.__dict__)


def load_check(artifact: Path, sidecar: dict) -> CheckData:
    """The check file the sidecar records for ``artifact``, after its sha256 and shapes are
    checked. CheckFileError (no check file: ``missing`` set) naming what is wrong."""
    entry = sidecar.get("check")
    if not isinstance(entry, dict):
        error = CheckFileError(f"{artifact.name} has no check file (exported before check "
                               f"files; re-export it to get one)")
        error.missing = True
        raise error
    name = str(entry.get("file") or "")
    if not name or os.path.basename(name) != name or name in (".", ".."):
        raise CheckFileError(f"{artifact.name}: its sidecar names the check file {name!r}, "
                             f"not a file name beside it")
    path = artifact.with_name(name)
    if not os.path.lexists(path):
        error = CheckFileError(f"{artifact.name}: its check file {name} is missing")
        error.missing = True
        raise error
    try:
        digest = sha256_file(path)
    except ExportError as e:
        raise CheckFileError(str(e)) from None
    if digest != entry.get("sha256"):
        raise CheckFileError(f"check file {name} does not match the sha256 its sidecar records: "
                             f"corrupt or modified; re-export {artifact.name}")
    data = read_check_file(path)
    want_in = (sidecar.get("input") or {}).get("shape")
    want_out = (sidecar.get("output") or {}).get("shape")
    if data.input_shape != want_in or data.output_shape != want_out:
        raise CheckFileError(f"check file {name} holds inputs {data.input_shape} and outputs "
                             f"{data.output_shape}, but {artifact.name} takes {want_in} and "
                             f"returns {want_out}")
    return data


def judge(data: CheckData, outputs: list[np.ndarray]) -> dict:
    """The export's verdict (verify.check_fp32 / check_int8 with the file's thresholds) on an
    artifact's ``outputs`` for ``data.inputs``."""
    import torch

    from ..export import verify

    reference = [torch.from_numpy(data.expected[i: i + 1]) for i in range(len(data.expected))]
    got = [torch.from_numpy(np.asarray(o, np.float32).reshape(1, -1)) for o in outputs]
    if any(g.shape != r.shape for g, r in zip(got, reference)):
        return {"status": "failed", "message": f"the artifact returns {list(got[0].shape)}, the "
                                               f"check file expects {list(reference[0].shape)}"}
    if data.rule == "fp32":
        return verify.check_fp32(reference, got, data.max_rel_diff)
    judged = data.min_top1_agreement is not None
    return verify.check_int8(reference, None, got, judged, min_sqnr_db=data.min_sqnr_db,
                             min_cosine=data.min_cosine,
                             min_top1_agreement=data.min_top1_agreement if judged else 0.0)


def run_outputs(session, data: CheckData) -> list[np.ndarray]:
    """A loaded session's outputs on each check input."""
    return [session.run(np.ascontiguousarray(data.inputs[i: i + 1]))
            for i in range(len(data.inputs))]


_METRICS = ("logit_scale", "max_abs_diff", "max_rel_diff", "sqnr_db", "min_cosine",
            "top1_agreement")


def run_check(artifact: Path, *, threads: int | None = None, verbose: bool = False
              ) -> CheckRow:
    """Check one artifact with its check file in its own runtime; a row, never an exception
    for a bad artifact or check file (the row's status and message say what is wrong)."""
    artifact = Path(artifact)
    sidecar = read_sidecar(artifact)
    if sidecar is None:
        return CheckRow(artifact.name, None, None, "error",
                        f"{artifact.name} has no coordatt sidecar ({sidecar_path(artifact).name})")
    runtime, precision = runtime_of(sidecar), sidecar.get("precision")
    row = CheckRow(artifact.name, runtime, precision, "error", "")
    try:
        if runtime is None:
            raise CoordattError(f"{artifact.name}: no runtime runs format/backend/precision "
                                f"{sidecar.get('format')}/{sidecar.get('backend')}/{precision}")
        check_artifact(artifact, sidecar, runtime=runtime)
        data = load_check(artifact, sidecar)
    except CheckFileError as e:
        row.status = "no check file" if getattr(e, "missing", False) else "error"
        row.message = str(e)
        return row
    except (CoordattError, ValueError) as e:
        row.message = str(e)
        return row
    row.inputs = len(data.inputs)
    recorded = (sidecar.get("check") or {}).get("metrics")
    row.exported = recorded if isinstance(recorded, dict) else None
    if (reason := unavailable_reason(runtime)) is not None:
        row.status, row.message = "skipped", reason
        return row
    try:
        with quiet(verbose), open_session(runtime, artifact, threads=threads) as session:
            outputs = run_outputs(session, data)  # runtimes print on load (cpuinfo lines)
    except Exception as e:  # the runtime failing on the artifact is this row's result
        text = (str(e).strip().splitlines() or [""])[0][:200]
        row.status = "failed"
        row.message = f"{runtime} could not run it: {type(e).__name__}: {text}"
        return row
    verdict = judge(data, outputs)
    row.status, row.message = verdict["status"], verdict.get("message", "")
    row.metrics = {k: verdict.get(k) for k in _METRICS if k in verdict}
    return row


def artifacts_in(paths: list[Path]) -> list[Path]:
    """The artifacts named, a folder standing for every artifact with a sidecar in it;
    ValueError for a path that is neither."""
    found: list[Path] = []
    for path in map(Path, paths):
        if path.is_dir() and path.suffix != ".mlpackage":
            inside = sorted(side.with_name(side.name[: -len(".json")])
                            for side in path.glob("*.json"))
            inside = [a for a in inside if os.path.lexists(a) and read_sidecar(a) is not None]
            if not inside:
                raise ValueError(f"no artifacts with a coordatt sidecar in {path}")
            found += inside
        elif os.path.lexists(path):
            found.append(path)
        else:
            raise ValueError(f"artifact not found: {path}")
    return found


def check_artifacts(paths: list[Path], *, threads: int | None = None,
                    verbose: bool = False) -> list[CheckRow]:
    """One row per artifact (folders expanded)."""
    return [run_check(p, threads=threads, verbose=verbose) for p in artifacts_in(paths)]
