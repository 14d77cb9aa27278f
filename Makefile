# Quick start: `make demo` (the main job against the embedded sandbox) and `make test` (the whole suite).
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: demo test lint unit test-azcli bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(PY) scripts/demo.py

lint: $(STAMP)
	$(VENV)/bin/ruff check reconciler tests bench scripts
	$(VENV)/bin/ruff format --check reconciler tests bench scripts
	$(VENV)/bin/lint-imports

# Azurite (Blob Storage emulator) for the controller's lease tests; those tests skip when npm is absent.
node_modules/.bin/azurite-blob:
	@if command -v npm >/dev/null 2>&1; then bash scripts/azurite.sh install; else echo "npm not found: Blob-lease tests will skip"; fi

unit: $(STAMP) node_modules/.bin/azurite-blob
	$(VENV)/bin/pytest -q -m "not azcli"

test: lint unit

test-azcli: $(STAMP)
	bash scripts/azcli-smoke.sh

bench: $(STAMP)
	$(PY) bench/sandbox_bench.py --quick
	$(PY) bench/plan_bench.py --quick

clean:
	rm -rf $(VENV) .azcli-venv .pytest_cache .ruff_cache build *.egg-info
