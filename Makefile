# make setup: an idempotent .venv with the project and every backend; make test / make demo use it.
SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -c
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.coordatt-installed

.PHONY: setup test test-full demo lint clean android-check-setup

setup: $(STAMP)

# torch first, pinned: on this machine `pip install torch==2.13.0` takes the CPU wheel from disk;
# installing the extras first would let pip resolve a multi-GB CUDA build.
$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip 2>&1 | { grep -v "is ignored" || true; }
	$(PY) -m pip install -q torch==2.13.0 2>&1 | { grep -v "is ignored" || true; }
	$(PY) -m pip install -q -e ".[all,dev]" 2>&1 | { grep -v "is ignored" || true; }
	$(PY) -c "import torch, coordatt; assert torch.__version__.startswith('2.13.0'), torch.__version__"
	touch $(STAMP)

# tests/conftest.py orders the modules longest first; --no-loadscope-reorder keeps that order
test: setup
	$(PY) -m pytest -q -n 2 --dist loadfile --no-loadscope-reorder -m "not full_zoo"

# everything, the full-depth lowering of every registered network included (~20 min more)
test-full: setup
	$(PY) -m pytest -q -n 2 --dist loadfile

demo: setup
	$(VENV)/bin/coordatt-export --format all
	$(VENV)/bin/coordatt-export --format all --quantize int8 --calibration-dir coordatt/data/images

lint: setup
	$(VENV)/bin/ruff check coordatt tests

# what COORDATT_ANDROID_COMPILE=1 tests/test_android_compile.py needs (Debian, as root; idempotent)
android-check-setup: setup
	PYTHON=$(PY) bash scripts/android_check_setup.sh

clean:
	rm -rf $(VENV) artifacts
