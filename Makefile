# lnp_brian: the two everyday commands are `make run` and `make test`.
# PYTHON=/path/to/python3.12 overrides interpreter detection (tools/find-python).
SHELL := /bin/bash
VENV  ?= .venv
PY    := $(VENV)/bin/python
STAMP := $(VENV)/.installed
RUN_OUT ?= runs/quick_lorenz63-$(shell date +%Y%m%d-%H%M%S)
RUN_CONFIG ?= configs/quick_lorenz63.toml
PYTEST_ARGS ?=
# pytest-xdist processes for `make test`; each test file runs whole in one of them
TEST_WORKERS ?= 2
BENCH_ARGS ?=

.PHONY: venv run simulate test test-all test-slow bench docs clean

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
	$(PY) -m pip install -q --disable-pip-version-check -e '.[test,cuda,docs]'; \
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
	$(PY) -m pytest -m "not slow and not gpu" -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder $(PYTEST_ARGS)

# The documentation site from docs/ and the docstrings, warnings as errors -> docs/_build/html
docs: $(STAMP)
	$(PY) -m sphinx -W --keep-going -q -b html docs docs/_build/html
	@echo "documentation: docs/_build/html/index.html"

test-slow: $(STAMP)
	$(PY) -m pytest -m "slow and not gpu" $(PYTEST_ARGS)

test-all: $(STAMP)
	$(PY) -m pytest -m "not gpu" $(PYTEST_ARGS)

# Every benchmark in benchmarks/ (ratios measured in one run) -> benchmarks/results.json.
# BENCH_ARGS=--quick for the small sizes.
bench: $(STAMP)
	$(PY) benchmarks/run_all.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache docs/_build

# GPU check of cuda_standalone on the lent GPU machine (README "GPU check", issue 7).
# `make gpu-wheels` fills the ignored folder .whl/ with what that machine lacks, as wheels for
# Python 3.12 / manylinux x86_64: brian2, brian2cuda, networkx and their dependencies at the
# versions of this venv (setup.cfg's pins), and a wheel of lnp_brian. The machine's own python3
# already holds numpy, scipy, scikit-learn, matplotlib and nvidia-curand (cuRAND): they are not
# carried (nvidia-curand alone is 74 MiB, scipy 34 MiB; everything that travels must stay under
# 64 MiB); networkit, optuna, pyamg and dask are not needed by the check (lnp_brian imports
# them only where they are used). `make gpu-check` runs the check here (a dry run: without a
# GPU it stops at once with the GPUUnavailable message, exit status 3).
GPU_WHL         := .whl
GPU_CARRY       ?= brian2 brian2cuda networkx
GPU_ON_IMAGE    ?= numpy scipy scikit-learn matplotlib nvidia-curand
GPU_WHL_MAX_MIB ?= 60
GPU_CHECK_ARGS  ?=
GPU_PLATFORM    := --only-binary=:all: --python-version 3.12 --implementation cp \
    --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 \
    --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 --platform manylinux1_x86_64

.PHONY: gpu-wheels gpu-check

gpu-wheels: $(STAMP)
	@set -euo pipefail; \
	rm -rf $(GPU_WHL); mkdir -p $(GPU_WHL); \
	pins="$$(mktemp)"; trap 'rm -f "$$pins"' EXIT; \
	$(PY) -m pip freeze --all --exclude-editable > "$$pins"; \
	echo "downloading $(GPU_CARRY) with their dependencies for Python 3.12 / manylinux x86_64"; \
	$(PY) -m pip download -q $(GPU_PLATFORM) -c "$$pins" -d $(GPU_WHL) $(GPU_CARRY) || { \
	    echo "gpu-wheels: a package has no wheel for the target: build it with" \
	         "'$(PY) -m pip wheel --no-deps -w $(GPU_WHL) NAME==VERSION' (pure Python) and retry" >&2; exit 1; }; \
	for name in $(GPU_ON_IMAGE); do \
	    find $(GPU_WHL) -maxdepth 1 -iname "$$(echo "$$name" | tr - _)-*.whl" -print -delete \
	        | sed 's|^|  not carried (on the GPU machine): |'; \
	done; \
	$(PY) -m pip wheel -q --no-deps -w $(GPU_WHL) .; \
	ls -l $(GPU_WHL) | tail -n +2; \
	kib=$$(du -sk $(GPU_WHL) | cut -f1); \
	echo "$(GPU_WHL): $$(ls $(GPU_WHL)/*.whl | wc -l) wheels, $$((kib / 1024)) MiB ($$kib KiB)"; \
	if [ "$$kib" -gt $$(( $(GPU_WHL_MAX_MIB) * 1024 )) ]; then \
	    echo "gpu-wheels: over $(GPU_WHL_MAX_MIB) MiB: the working tree that travels is limited to 64 MiB" >&2; exit 1; \
	fi

gpu-check: $(STAMP)
	OUT="$${OUT:-runs/gpu-check-$(shell date +%Y%m%d-%H%M%S)}" PYTHON=$(PY) bash benchmarks/gpu_check.sh $(GPU_CHECK_ARGS)
