# Two entry points: `make demo` and `make test`. Both build .venv from scratch when needed.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

# The shared data folder beside a checkout serves development and CI; users get downloads.
ifneq ($(wildcard ../shared/data),)
export RNNLAB_DATA_DIR ?= $(abspath ../shared/data)
endif

.PHONY: demo test test-slow coverage install install-dev clean bench-serve bench-load

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e .
	$(BIN)/python -m rnnlab.models.kernels
	touch $@

$(BIN)/.installed-dev: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	$(BIN)/python -m rnnlab.models.kernels
	touch $(BIN)/.installed $@

install: $(BIN)/.installed
install-dev: $(BIN)/.installed-dev

demo: install
	$(BIN)/rnnlab reproduce textbook --out runs/textbook

# `make test` leaves out the tests marked `slow` (long end-to-end checks: every config kind
# reproduced in two processes, the kernels' property test, a two-node Ray cluster, a search,
# the tutorial notebook, train auto end to end...); `make test-slow` runs them, and CI (.ci/run)
# runs both. Each prints its 15 slowest tests.
test: install-dev
	$(BIN)/lint-imports
	$(BIN)/python -m pytest -n 2 --dist loadfile --no-loadscope-reorder -m "not slow" --durations=15
	KERAS_BACKEND=torch $(BIN)/python -m pytest -m "smoke and not slow" -q

test-slow: install-dev
	$(BIN)/python -m pytest -n 2 --dist loadfile --no-loadscope-reorder -m slow --durations=15

# The JAX suite with line coverage of the package (code run in this process and its xdist
# workers; CLI subprocesses are not counted): a table, and runs/coverage.json.
coverage: install-dev
	$(BIN)/python -m pytest -n 2 --dist loadfile --no-loadscope-reorder -q --cov=rnnlab --cov-report=term:skip-covered --cov-report=json:runs/coverage.json

bench-serve: install-dev
	test -d runs/bench-lstm || $(BIN)/rnnlab train lstm --out runs/bench-lstm
	test -d runs/bench-bilstm || $(BIN)/rnnlab train bilstm --out runs/bench-bilstm
	$(BIN)/python benchmarks/bench_serve.py runs/bench-lstm runs/bench-bilstm --out runs/bench_serve.json

# Concurrent clients (1, 8, 32, 128; 30 s each) against the textbook BiLSTM, with and without
# cross-request batching; wrk drives the load on 127.0.0.1.
bench-load: install-dev
	command -v wrk >/dev/null || { SUDO=""; [ "$$(id -u)" -eq 0 ] || SUDO=sudo; $$SUDO apt-get install -y -q wrk; }
	test -d runs/textbook/best || $(BIN)/rnnlab reproduce textbook --models bilstm --out runs/textbook
	$(BIN)/python benchmarks/bench_load.py runs/textbook/best --out runs/bench_load.json --markdown runs/bench_load.md

clean:
	rm -rf $(VENV) runs build *.egg-info src/*.egg-info

# Benchmarks, never part of `make test`: rnnlab against the textbook's code and plain PyTorch.
# TensorFlow and keras-preprocessing live in their own environment, .venv-bench; rnnlab's side
# runs in .venv. `make bench BENCH=preprocess` runs one (preprocess, train, predict,
# time_to_accuracy); BENCH_ARGS passes options, e.g. BENCH_ARGS="--rounds 5 --max-wait 1800".
BENCH_VENV := .venv-bench

$(BENCH_VENV)/.installed: pyproject.toml benchmarks/requirements.txt
	$(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/pip install -q --upgrade pip
	$(BENCH_VENV)/bin/pip install -q -e . -r benchmarks/requirements.txt
	touch $@

.PHONY: bench
bench: install-dev $(BENCH_VENV)/.installed
	$(BENCH_VENV)/bin/python benchmarks/run.py $(if $(BENCH),--bench $(BENCH)) $(BENCH_ARGS)
