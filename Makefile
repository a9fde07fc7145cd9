# Two commands: `make run` and `make test`. Both create .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DEMO_DB := demo-workspace/zctui.sqlite3

.PHONY: run test lint typecheck bench clean

$(BIN)/zctui: pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

run: $(BIN)/zctui
	$(BIN)/zctui --db $(DEMO_DB) demo --force
	-$(BIN)/zctui --db $(DEMO_DB) check
	$(BIN)/zctui --db $(DEMO_DB)

lint: $(BIN)/zctui
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/lint-imports

typecheck: $(BIN)/zctui
	$(BIN)/mypy

test: lint typecheck
	$(BIN)/pytest

bench: $(BIN)/zctui
	$(BIN)/python bench/run.py
	$(BIN)/python bench/tui.py
	$(BIN)/python bench/checks.py
	$(BIN)/python bench/dossier.py
	$(BIN)/python bench/blobs.py
	$(BIN)/python bench/sync_bytes.py

clean:
	rm -rf $(VENV) demo-workspace .pytest_cache .mypy_cache .ruff_cache
