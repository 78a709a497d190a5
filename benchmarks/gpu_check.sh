#!/usr/bin/env bash
# A GPU check anyone can run: the textbook models and the best CPU recipe on a CUDA GPU, with the
# JAX and the torch backend, printing samples/s and test accuracy. Fits in 10 minutes on one
# H100/H200-class GPU; never part of `make test`.
#
#   benchmarks/gpu_check.sh [OUT]        (default OUT: runs/gpu_check)
#
# Needs, in the active Python environment (or .venv): rnnlab installed (`pip install -e .`),
# a CUDA build of JAX (`pip install -U "jax[cuda12]"`) and a CUDA build of torch. The IMDB
# archive is found as everywhere else ($RNNLAB_DATA_DIR, the user cache, or a download).
set -euo pipefail
OUT=${1:-runs/gpu_check}
PY=${PYTHON:-$( [ -x .venv/bin/python ] && echo .venv/bin/python || echo python3 )}
command -v nvidia-smi >/dev/null || { echo "gpu_check: no nvidia-smi here; this check needs a CUDA GPU." >&2; exit 2; }
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
mkdir -p "$OUT"
export RNNLAB_PROGRESS=lines
# JAX: the textbook models and the recipe (the recipe's word vectors are trained on the CPU once, then cached).
KERAS_BACKEND=jax timeout 420 "$PY" benchmarks/gpu_check.py --out "$OUT" | tee "$OUT/jax.log"
# torch: the textbook models (CUDA when torch.cuda.is_available()).
KERAS_BACKEND=torch timeout 170 "$PY" benchmarks/gpu_check.py --out "$OUT" --recipe "" | tee "$OUT/torch.log"
echo "results: $OUT/gpu_check-jax.json $OUT/gpu_check-torch.json"
