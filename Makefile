# LearnHub: `make run` serves the app with demo data; `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app learnhub

.PHONY: run test lint bench setup clean-db translations

# axe-core, for the browser accessibility checks, from the npm registry (never committed).
AXE := .cache/node/node_modules/axe-core/axe.min.js

$(BIN)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -r requirements.txt
	touch $@

translations: $(BIN)/.installed
	$(BIN)/pybabel compile -d learnhub/translations

setup: $(BIN)/.installed translations

run: setup
	./scripts/system-deps.sh run
	LEARNHUB_ENV=development $(FLASK) db upgrade
	LEARNHUB_ENV=development $(FLASK) content sync
	LEARNHUB_ENV=development $(FLASK) demo
	LEARNHUB_ENV=development $(FLASK) run --host 127.0.0.1 --port 5000

lint: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

$(AXE):
	@if command -v npm >/dev/null 2>&1; then \
		npm install --no-save --no-audit --no-fund --prefix .cache/node axe-core@4.14.1; \
	else \
		echo "npm not found: the accessibility checks will be skipped (apt-get install npm)"; \
	fi

test: setup $(AXE)
	./scripts/system-deps.sh test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/pytest
	@if [ -n "$$LEARNHUB_TEST_DATABASE_URL" ]; then \
		echo "== The same suite on PostgreSQL"; \
		LEARNHUB_TEST_BACKEND=postgresql $(BIN)/pytest; \
	else \
		echo "SKIPPED: PostgreSQL run (set LEARNHUB_TEST_DATABASE_URL to run the suite on PostgreSQL too)"; \
		if [ -n "$$LEARNHUB_REQUIRE_ALL" ]; then echo "LEARNHUB_REQUIRE_ALL is set: PostgreSQL is required" >&2; exit 1; fi; \
	fi

bench: setup
	./scripts/system-deps.sh bench
	# Compiled once, as a deployed app is: the command-line timings then exclude compiling.
	$(BIN)/python -m compileall -q learnhub bench
	$(BIN)/python -m bench

clean-db:
	rm -f instance/learnhub.sqlite instance/learnhub.sqlite-wal instance/learnhub.sqlite-shm
