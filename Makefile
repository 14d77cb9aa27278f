# Quick start: `make demo` (the main job against the embedded sandbox) and `make test` (the whole suite).
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: demo test lint unit chromium test-azcli bench clean container

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

# Debian's chromium for the dashboard's browser tests (tests/ui; Playwright drives the system browser, it
# cannot download its own here). Installed when running as root; otherwise those tests skip and say why.
chromium:
	@if [ -x /usr/bin/chromium ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  set -x; apt-get install -y chromium || { apt-get update && apt-get install -y chromium; }; \
	else echo "chromium not installed (needs root: apt-get install -y chromium): browser tests will skip"; fi

unit: $(STAMP) node_modules/.bin/azurite-blob chromium
	$(VENV)/bin/pytest -q -m "not azcli"

test: lint unit

test-azcli: $(STAMP)
	bash scripts/azcli-smoke.sh

# The controller's image, with podman (preferred; vfs storage by default: works in CI and nested containers,
# PODMAN_STORAGE=overlay for speed on a workstation) or docker. CONTAINER_BASE picks another base image (e.g.
# the mmdebstrap one scripts/container-smoke.sh builds); empty = the Dockerfile's python:3.11-slim. PIP_CERT (a CA
# bundle, e.g. a TLS-inspecting proxy's) is lent to pip in the build as a secret, never stored in the image.
CONTAINER_IMAGE ?= avd-reconciler:dev
CONTAINER_BASE  ?=
PODMAN_STORAGE  ?= vfs
CONTAINER_BUILD_FLAGS ?=
container:
	@set -e; flags='$(if $(CONTAINER_BASE),--build-arg BASE=$(CONTAINER_BASE)) $(CONTAINER_BUILD_FLAGS)'; \
	if [ -n "$(PIP_CERT)" ] && [ -s "$(PIP_CERT)" ]; then flags="$$flags --secret id=pip_cert,src=$(PIP_CERT)"; fi; \
	if command -v podman >/dev/null 2>&1; then \
	  set -x; podman --storage-driver $(PODMAN_STORAGE) build --isolation chroot --network host $$flags -t $(CONTAINER_IMAGE) .; \
	elif command -v docker >/dev/null 2>&1; then \
	  set -x; docker build --network host $$flags -t $(CONTAINER_IMAGE) .; \
	else echo "make container: neither podman nor docker is installed" >&2; exit 1; fi

bench: $(STAMP)
	$(PY) bench/sandbox_bench.py --quick
	$(PY) bench/plan_bench.py --quick

clean:
	rm -rf $(VENV) .azcli-venv .pytest_cache .ruff_cache build *.egg-info
