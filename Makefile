# The two commands a new user types: `make run` and `make test`. Both set up .venv once (pinned by
# requirements/constraints.txt); a second call finds the stamp file and installs nothing. `make run` installs the
# pipeline's own stack only; the test tools (pytest, JAX for the backend test, Playwright, psycopg2) come with the
# first `make test`, `make test-fast`, `make lint` or `make bench`. scripts/install.sh installs with uv (pip where uv cannot).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.archlab-installed
DEV_STAMP := $(VENV)/.archlab-dev-installed
export PATH := $(abspath $(BIN)):$(PATH)
export TF_CPP_MIN_LOG_LEVEL ?= 2
export GX_ANALYTICS_ENABLED ?= false

.PHONY: setup setup-dev browser run run-task test test-fast test-durations deps params-doc lint clean retrain-demo bench \
	compare

setup: $(STAMP)

$(STAMP): pyproject.toml requirements/constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "archlab needs Python 3.11+, found " + sys.version.split()[0])'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	bash scripts/install.sh $(VENV) -e .
	touch $(STAMP)

setup-dev: $(DEV_STAMP)

$(DEV_STAMP): $(STAMP)
	bash scripts/install.sh $(VENV) -e '.[dev]'
	touch $(DEV_STAMP)

run: setup
	$(BIN)/archlab repro
	$(BIN)/archlab remote push
	$(BIN)/archlab summary

# Another task's example params (params/$(TASK).yaml) through the whole pipeline, in a scratch project runs/$(TASK)
TASK ?= tabular
run-task: setup
	bash scripts/run_task.sh $(TASK)

# The MLflow UI test drives Debian's Chromium with Playwright (never a browser download): install it once.
CHROMIUM := /usr/bin/chromium
browser:
	@test -x $(CHROMIUM) || { SUDO=$$(test "$$(id -u)" = 0 || echo sudo); \
	  $$SUDO apt-get install -y --no-install-recommends chromium || \
	  { $$SUDO apt-get update && $$SUDO apt-get install -y --no-install-recommends chromium; }; }

# Two workers, each taking whole test files (module fixtures are built once), longest files first by the last
# run's seconds (tests/budget.py), so neither worker idles at the end. Each run ends with a "suite budget" section:
# wall, CPU share, tests over 60 s. `make test TEST_WORKERS=0` runs serially, e.g. to debug one test's output.
TEST_WORKERS ?= 2
PYTEST := $(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder
test: setup-dev browser
	$(PYTEST)

# The quick lane while working: everything but the end-to-end tests (`-m "not slow"`: real `dvc repro`, training
# every architecture, kill/resume subprocesses). `make test` stays the full suite, and CI's.
test-fast: setup-dev
	$(PYTEST) -m "not slow"

# After a full `make test`: keep its per-test seconds as the order a fresh clone (CI) starts from.
test-durations:
	cp .pytest_cache/d/archlab/durations.json tests/durations.json

# dvc.yaml's code deps from the imports each stage runs (scripts/stage_deps.py); tests/test_stage_deps.py checks them.
deps: $(DEV_STAMP)
	$(BIN)/python -m scripts.stage_deps

# docs/params.md from the params schema (scripts/params_reference.py); tests/test_params_reference.py checks it.
params-doc: $(STAMP)
	$(BIN)/python -m scripts.params_reference

# The decisive comparison on the embedded digits (docs/evaluation.md, "Cross-validation"): every architecture of
# train.architectures, references included, cross-validated 5 folds x 2 repeats, as a DVC experiment.
compare: setup
	$(BIN)/dvc exp run -S compare.folds=5 -S compare.repeats=2 \
	  -S "compare.architectures=$$($(BIN)/python -c 'from archlab.params import load_params; \
	  print("[" + ",".join(load_params("params.yaml").train.architectures) + "]")')"
	$(BIN)/archlab summary

bench: setup-dev
	$(BIN)/python -m bench.run --out reports

retrain-demo: setup
	bash scripts/retrain_demo.sh

lint: setup-dev
	$(BIN)/ruff check src stages tests bench

clean:
	rm -rf $(VENV) data/ingested reports mlflow.db mlruns runs
