# lnp_brian: the two everyday commands are `make run` and `make test`.
# PYTHON=/path/to/python3.12 overrides interpreter detection (tools/find-python).
SHELL := /bin/bash
VENV  ?= .venv
PY    := $(VENV)/bin/python
STAMP := $(VENV)/.installed
RUN_OUT ?= runs/quick_lorenz63-$(shell date +%Y%m%d-%H%M%S)
RUN_CONFIG ?= configs/quick_lorenz63.toml
PYTEST_ARGS ?=
BENCH_ARGS ?=

.PHONY: venv run simulate test test-all test-slow bench clean

# (Re)create the virtual environment when it is missing, has a Python older than
# 3.12, or the package metadata changed.
$(STAMP): setup.cfg pyproject.toml
	@set -e; \
	if ! { [ -x $(PY) ] && $(PY) -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; }; then \
	    py="$$(PYTHON='$(PYTHON)' tools/find-python)"; \
	    echo "creating $(VENV) with $$py"; \
	    rm -rf $(VENV); "$$py" -m venv $(VENV); \
	fi; \
	echo "installing lnp_brian and its pinned dependencies into $(VENV) (about 80 s the first time)"; \
	$(PY) -m pip install -q --disable-pip-version-check -e '.[test,cuda]'; \
	touch $(STAMP)

venv: $(STAMP)

# The main job: a small Lorenz63 experiment (300-neuron HRSNN; dense, LNP and AP; 3 seeds;
# h = 1 and 10), summary table printed, figures in the run directory. Another config:
# make run RUN_CONFIG=configs/digits.toml
run: $(STAMP)
	$(VENV)/bin/lnp-brian experiment $(RUN_CONFIG) --out $(RUN_OUT)

# The former main job: one 1000-neuron HRSNN simulated for 1 s, raster and dynamics plots.
simulate: $(STAMP)
	$(VENV)/bin/lnp-brian simulate --model hrsnn --neurons 1000 --duration 1s \
	    --device cpp_standalone --seed 1 --out runs/hrsnn-$(shell date +%Y%m%d-%H%M%S)

# Fast suite (what CI runs). Slow and GPU tests are behind markers.
test: $(STAMP)
	$(PY) -m pytest -m "not slow and not gpu" $(PYTEST_ARGS)

test-slow: $(STAMP)
	$(PY) -m pytest -m "slow and not gpu" $(PYTEST_ARGS)

test-all: $(STAMP)
	$(PY) -m pytest -m "not gpu" $(PYTEST_ARGS)

# Every benchmark in benchmarks/ (ratios measured in one run) -> benchmarks/results.json.
# BENCH_ARGS=--quick for the small sizes.
bench: $(STAMP)
	$(PY) benchmarks/run_all.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache
