"""Path flags of every command refuse an empty value (issue 11: ``--output-dir ""`` wrote into the
current folder): ``Path("")`` is ``.``, so an empty value would silently mean the current folder.
argparse's exit 2 with the flag named, no traceback, nothing written; in-process, milliseconds."""

from __future__ import annotations

import importlib

import pytest

# command -> a valid argument list around the flag under test (never reached: parsing fails)
BASE = {
    "export": ["--format", "onnx"],
    "bench": ["--runtimes", "onnxruntime"],
    "eval": [],
    "train": [],
}
FLAGS = {
    "export": ["--weights", "--labels", "--calibration-dir"],
    "bench": ["--output-dir", "--artifacts", "--from", "--weights", "--eval-dir",
              "--from-device-log", "--farm-spec", "--apk"],
    "eval": ["--data", "--artifacts", "--output-dir", "--labels-csv"],
    "train": ["--data", "--output-dir", "--weights"],
}
CASES = [(command, flag) for command, flags in FLAGS.items() for flag in flags]


@pytest.mark.parametrize(("command", "flag"), CASES, ids=[f"{c}{f}" for c, f in CASES])
def test_empty_path_flag_is_refused(command, flag, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    main = importlib.import_module(f"coordatt.{command}.cli").main
    required = {"eval": ["--data", "d"], "train": ["--data", "d"]}.get(command, [])
    if flag == "--data":
        required = []
    with pytest.raises(SystemExit) as e:
        main([*BASE[command], *required, flag, ""])
    err = capsys.readouterr().err
    assert e.value.code == 2 and "Traceback" not in err
    assert f"argument {flag}: empty; name a file or folder" in err.strip().splitlines()[-1]
    assert list(tmp_path.iterdir()) == []


def test_farm_spec_that_is_a_file_is_refused_before_any_export(tmp_path, capsys, monkeypatch):
    # it used to export every artifact first and fail only when writing the job
    monkeypatch.chdir(tmp_path)
    (tmp_path / "afile").write_text("mine")
    from coordatt.bench.cli import main

    code = main(["--device", "android", "--farm-spec", "afile", "--runtimes",
                 "executorch-xnnpack"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and err == ["error: --farm-spec afile is not a folder (a regular file)"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["afile"]
    assert (tmp_path / "afile").read_text() == "mine"
