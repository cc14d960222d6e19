"""The console scripts end with one line on Ctrl-C or SIGTERM even while torch and the backends
are still importing (before any command's ``main`` runs): coordatt/_entry.py and the lazy
``coordatt/__init__.py``."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from process_group import process_group

BIN = Path(sys.executable).parent


def test_importing_coordatt_does_not_import_torch():
    code = "import sys, coordatt; print('torch' in sys.modules, coordatt.__version__)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=60, check=True).stdout
    assert out.split()[0] == "False"


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["sigint", "sigterm"])
@pytest.mark.parametrize("command", ["coordatt-export", "coordatt-bench", "coordatt-train",
                                     "coordatt-eval"])
def test_signal_while_importing(command, sig, tmp_path):
    script = BIN / command
    if not script.exists():
        pytest.skip(f"{command} is not installed in this environment")
    with process_group([str(script), "--help"], cwd=tmp_path, stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, text=True, terminal_sigint=True) as proc:
        time.sleep(0.4)  # python is up, torch (~2 s) is still importing
        if proc.poll() is not None:
            pytest.skip("the command finished before the signal could be sent")
        os.killpg(proc.pid, sig)
        err = proc.communicate(timeout=60)[1]
    assert proc.returncode == 130, err
    assert "Traceback" not in err and err.strip().count("\n") == 0, err
    assert err.startswith("interrupted"), err
    assert list(tmp_path.iterdir()) == []
