# Guanxi — two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000
PG_URL ?= postgres://postgres@127.0.0.1:5432/test
PYTEST_ARGS ?=
WORKER_LOG ?= $${GUANXI_DATA_DIR:-var}/worker.log

.PHONY: run install dev test test-postgres test-browser lint bench bench-sqlite bench-postgres clean

# Front-end libraries (ECharts, map data) from npm, pinned by assets/package-lock.json; an
# order-only prerequisite, so a changed lockfile reinstalls them without reinstalling Python.
ASSETS := assets/node_modules/.installed

$(ASSETS): assets/package-lock.json
	@command -v npm >/dev/null 2>&1 || { echo "npm is required for the chart assets (apt-get install npm)" >&2; exit 1; }
	npm ci --prefix assets --no-audit --no-fund
	@touch $@

$(BIN)/guanxi: pyproject.toml | $(ASSETS)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e .
	@touch $@

install: $(BIN)/guanxi

$(VENV)/.dev: $(BIN)/guanxi
	$(BIN)/pip install -q -e '.[dev]'
	@touch $@

dev: $(VENV)/.dev

run: install
	$(BIN)/guanxi demo
	@echo "Open http://$(HOST):$(PORT) and log in as admin with the password above."
	@echo "The background worker (reminders, digest, scheduled jobs) logs to $(WORKER_LOG)."
	$(BIN)/guanxi worker --workers 1 > $(WORKER_LOG) 2>&1 & worker=$$!; \
	trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	$(BIN)/guanxi serve --host $(HOST) --port $(PORT)

lint: dev
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

test: lint
	GUANXI_DATA_DIR=$${GUANXI_DATA_DIR:-$(CURDIR)/var/test} $(BIN)/guanxi check --fail-level WARNING
	GUANXI_DATA_DIR=$${GUANXI_DATA_DIR:-$(CURDIR)/var/test} $(BIN)/guanxi makemigrations --check --dry-run
	GUANXI_DATA_DIR=$${GUANXI_DATA_DIR:-$(CURDIR)/var/test} $(BIN)/pytest -m "not browser" --ignore=tests/browser -n 2 $(PYTEST_ARGS)

test-postgres: dev
	DATABASE_URL=$${DATABASE_URL:-$(PG_URL)} GUANXI_DATA_DIR=$${GUANXI_DATA_DIR:-$(CURDIR)/var/test} \
		$(BIN)/pytest -m "not browser" --ignore=tests/browser -n 2 $(PYTEST_ARGS)

test-browser: dev
	GUANXI_DATA_DIR=$${GUANXI_DATA_DIR:-$(CURDIR)/var/test} $(BIN)/pytest tests/browser -m browser -p no:xdist $(PYTEST_ARGS)

bench: bench-sqlite bench-postgres

bench-sqlite: install
	$(BIN)/python bench/bench_customers.py --db sqlite --rows $${ROWS:-1000000}
	$(BIN)/python bench/bench_duplicates.py --db sqlite --rows $${ROWS:-1000000}
	$(BIN)/python bench/bench_governance.py --db sqlite --rows $${ROWS:-1000000}

bench-postgres: install
	$(BIN)/python bench/bench_customers.py --db postgres --rows $${ROWS:-1000000}
	$(BIN)/python bench/bench_duplicates.py --db postgres --rows $${ROWS:-1000000}
	$(BIN)/python bench/bench_governance.py --db postgres --rows $${ROWS:-1000000}

clean:
	rm -rf $(VENV) var build *.egg-info assets/node_modules
