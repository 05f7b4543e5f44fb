#!/usr/bin/env bash
# The GPU check of cuda_standalone in one command (README "GPU check", issue 7). Run from the
# repository root on the GPU machine, with the wheels of `make gpu-wheels` in .whl/:
#
#     bash benchmarks/gpu_check.sh [bench_gpu.py options, e.g. --quick --skip-cpp-large]
#
# Installs .whl/*.whl into $SITE (default /tmp/site; the machine's own python3 supplies numpy,
# scipy, scikit-learn, matplotlib and nvidia-curand), lays this working tree's lnp_brian over
# the installed wheel (so the code that runs is the code checked out, even when the wheel is
# older), prints nvidia-smi and nvcc, then runs benchmarks/bench_gpu.py --out "${OUT:-benchmarks}".
# The log goes to $OUT/gpu_check.log, the results to $OUT/results_gpu.json. Exit status: that
# of bench_gpu.py (0 passed, 1 a check failed or a step broke, 3 no GPU / no nvcc), or 2 when
# the setup failed.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
OUT_DIR="${OUT:-benchmarks}"
PY="${PYTHON:-python3}"
SITE="${SITE:-/tmp/site}"
mkdir -p "$OUT_DIR"
LOG="$OUT_DIR/gpu_check.log"

ts() { date -u '+%Y-%m-%dT%H:%M:%SZ'; }
say() { echo "[$(ts)] gpu_check: $*"; }

setup() {
    say "repository $(pwd), python $("$PY" -c 'import sys; print(sys.version.split()[0], sys.executable)')"
    if command -v nvidia-smi >/dev/null 2>&1; then
        nvidia-smi || true
    else
        say "nvidia-smi: not found"
    fi
    if command -v nvcc >/dev/null 2>&1; then
        nvcc --version | tail -n 2 || true
    elif [ -x /usr/local/cuda/bin/nvcc ]; then
        /usr/local/cuda/bin/nvcc --version | tail -n 2 || true
    else
        say "nvcc: not found"
    fi
    if compgen -G ".whl/*.whl" >/dev/null; then
        say "installing $(ls .whl/*.whl | wc -l) wheels from .whl/ into $SITE"
        "$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
            --disable-pip-version-check --target "$SITE" .whl/*.whl || return 1
        if [ -d "$SITE/lnp_brian" ]; then  # the checked-out code wins over the wheel's
            cp -r lnp_brian/. "$SITE/lnp_brian/"
            mkdir -p "$SITE/lnp_brian/models"
            cp models/*.toml models/README.md "$SITE/lnp_brian/models/"
        fi
        export PYTHONPATH="$SITE${PYTHONPATH:+:$PYTHONPATH}"
    else
        say "no .whl/*.whl (make gpu-wheels): using the packages of $PY as they are"
    fi
    # -P: not the checkout's lnp_brian/ (cwd) but the installed one that bench_gpu.py imports;
    # the first import compiles brian2cuda, whose SyntaxWarnings are not ours to show
    "$PY" -P -W ignore::SyntaxWarning -c 'import brian2, brian2cuda, numpy, scipy, lnp_brian; print("lnp_brian", lnp_brian.__version__, "from", lnp_brian.__file__, "| brian2", brian2.__version__, "| brian2cuda", brian2cuda.__version__, "| numpy", numpy.__version__, "| scipy", scipy.__version__)' || return 1
}

main() {
    say "start (OUT=$OUT_DIR)"
    if ! setup; then
        say "setup failed"
        return 2
    fi
    local rc=0
    PYTHONUNBUFFERED=1 PYTHONWARNINGS="${PYTHONWARNINGS:-ignore::SyntaxWarning}" \
        "$PY" benchmarks/bench_gpu.py --out "$OUT_DIR" "$@" || rc=$?
    local results="no results_gpu.json"
    [ -f "$OUT_DIR/results_gpu.json" ] && results="results $OUT_DIR/results_gpu.json"
    say "bench_gpu.py exit status $rc; log $LOG, $results"
    return "$rc"
}

set +e
main "$@" 2>&1 | tee "$LOG"
exit "${PIPESTATUS[0]}"
