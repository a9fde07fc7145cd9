# Two commands: `make run` and `make test`. Both create .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DEMO_DB := demo-workspace/zctui.sqlite3

.PHONY: run run-local test lint typecheck bench clean

$(BIN)/zctui: pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

# The whole system: a demo server on a free loopback port, its logins printed, then the TUI.
run: $(BIN)/zctui
	$(BIN)/zctui demo --server

# The applicant's side alone, offline: a local demo workspace, its checklist, the TUI.
run-local: $(BIN)/zctui
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
	$(BIN)/python bench/sync_wire.py

clean:
	rm -rf $(VENV) demo-workspace .pytest_cache .mypy_cache .ruff_cache
