# The two commands of the README. Everything else is a helper of theirs.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP_RUN  := $(VENV)/.installed-run
STAMP_TEST := $(VENV)/.installed-test

.PHONY: demo test chromium bytecode install install-test lint types unit clean bench

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip uv

$(STAMP_RUN): pyproject.toml | $(BIN)/python
	$(BIN)/uv pip install -q --compile-bytecode --python $(BIN)/python -e '.[web]'
	touch $@

$(STAMP_TEST): pyproject.toml | $(BIN)/python
	$(BIN)/uv pip install -q --compile-bytecode --python $(BIN)/python -e '.[test]'
	touch $@ $(STAMP_RUN)

install: $(STAMP_RUN)
install-test: $(STAMP_TEST)

DEMO_HOME ?= $(CURDIR)/var/demo

DEMO_HOST ?= 127.0.0.1
DEMO_PORT ?= 8000

## make demo: build the demo business into its own embedded database, score it (three runs,
## so the funnel has history) and serve the dashboard, printing its address and the logins
demo: $(STAMP_RUN) bytecode
	CLIENTBASE_HOME=$(DEMO_HOME) $(BIN)/clientbase demo --replace
	CLIENTBASE_HOME=$(DEMO_HOME) $(BIN)/clientbase score --as-of 2025-06-30
	CLIENTBASE_HOME=$(DEMO_HOME) $(BIN)/clientbase score --as-of 2025-12-31
	CLIENTBASE_HOME=$(DEMO_HOME) $(BIN)/clientbase score --as-of 2026-06-30
	CLIENTBASE_HOME=$(DEMO_HOME) CLIENTBASE_DEMO=true $(BIN)/clientbase serve \
		--host $(DEMO_HOST) --port $(DEMO_PORT)

## make chromium: the browser the dashboard tests drive (Debian's chromium package)
chromium:
	@if [ ! -x /usr/bin/chromium ]; then \
		if [ "$$(id -u)" = 0 ]; then apt-get update && apt-get install -y chromium; \
		else echo "missing: /usr/bin/chromium (run as root: apt-get update && apt-get install -y chromium)"; exit 1; fi; \
	fi

## make bytecode: compiled modules of the source tree (imports read them; the packages are
## compiled when installed), so that each command starts fast even where Python is told not
## to write bytecode itself (PYTHONDONTWRITEBYTECODE)
bytecode:
	@$(BIN)/python -m compileall -q src

## make test: lint, types, architecture contract and the whole test suite
test: $(STAMP_TEST) chromium bytecode
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/python -m pytest

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
