# The two commands of the README. Everything else is a helper of theirs.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP_RUN  := $(VENV)/.installed-run
STAMP_TEST := $(VENV)/.installed-test

.PHONY: demo test install install-test lint types unit clean bench

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip uv

$(STAMP_RUN): pyproject.toml | $(BIN)/python
	$(BIN)/uv pip install -q --python $(BIN)/python -e .
	touch $@

$(STAMP_TEST): pyproject.toml | $(BIN)/python
	$(BIN)/uv pip install -q --python $(BIN)/python -e '.[test]'
	touch $@ $(STAMP_RUN)

install: $(STAMP_RUN)
install-test: $(STAMP_TEST)

DEMO_HOME ?= $(CURDIR)/var/demo

## make demo: build the demo business into its own embedded database and show its summary
demo: $(STAMP_RUN)
	CLIENTBASE_HOME=$(DEMO_HOME) $(BIN)/clientbase demo --replace

## make test: lint, types, architecture contract and the whole test suite
test: $(STAMP_TEST)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/python -m pytest

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
