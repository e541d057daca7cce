# landreg — two commands do all the set-up on a fresh Debian machine:
#   make run    the app with the demo region on a local PostGIS it sets up itself
#   make test   the test suite against a throwaway PostGIS database and headless Chromium
# Set LANDREG_DATABASE_URL to use an existing PostGIS instead of the project-local cluster.

SHELL := /bin/bash
# Debian's python3 when present: the app runs as the unprivileged `landreg` user, which must be
# able to execute the venv's interpreter (a pyenv build under /root is out of its reach).
PYTHON ?= $(firstword $(wildcard /usr/bin/python3) python3)
VENV := .venv
BIN := $(VENV)/bin
LANDREG_PG_PORT ?= 5433
LANDREG_HOST ?= 127.0.0.1
LANDREG_PORT ?= 5000
# test processes: one per core (pytest-xdist; each has its own database), 0 runs them in one
PYTEST_WORKERS ?= auto
LOCAL_SERVER := postgresql+psycopg://postgres@127.0.0.1:$(LANDREG_PG_PORT)
export LANDREG_PG_PORT

ifeq ($(strip $(LANDREG_DATABASE_URL)),)
  DB_URL := $(LOCAL_SERVER)/landreg
  DB_SETUP := pg-up
  TEST_SERVER_URL := $(LOCAL_SERVER)/postgres
else
  DB_URL := $(LANDREG_DATABASE_URL)
  DB_SETUP :=
  TEST_SERVER_URL := $(LANDREG_DATABASE_URL)
endif

.PHONY: run test setup pg-up pg-down db vendor browser lint bench bench-tools bench-load clean-db

run: setup db
	LANDREG_DATABASE_URL=$(DB_URL) $(BIN)/landreg serve --host $(LANDREG_HOST) --port $(LANDREG_PORT)

test: setup browser $(DB_SETUP)
	LANDREG_TEST_SERVER_URL=$(TEST_SERVER_URL) $(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

setup: $(VENV)/.installed vendor

$(VENV)/.installed: pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	@touch $@

# Leaflet and its plugins come from the npm registry into webmap/node_modules (git-ignored),
# served by the app under /vendor/: the maps never need a CDN.
vendor: webmap/node_modules/.installed

webmap/node_modules/.installed: webmap/package.json webmap/package-lock.json
	@command -v npm >/dev/null || { echo "installing Debian's npm (once)"; apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends npm >/dev/null; }
	cd webmap && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

# Debian's Chromium for the browser tests (Playwright drives it through executable_path).
browser:
	@test -x /usr/bin/chromium || { echo "installing Debian's chromium for the browser tests"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null; }

pg-up:
	@scripts/pg.sh up

pg-down:
	@scripts/pg.sh down

db: $(DB_SETUP)
ifeq ($(strip $(LANDREG_DATABASE_URL)),)
	@scripts/pg.sh createdb landreg
endif
	LANDREG_DATABASE_URL=$(DB_URL) $(BIN)/landreg db prepare

lint: setup
	$(BIN)/ruff check .

bench: setup $(DB_SETUP)
	LANDREG_TEST_SERVER_URL=$(TEST_SERVER_URL) $(BIN)/python scripts/bench_api.py

# The load generators of the benchmarks: Debian's wrk (C, a few % of a core for 50 clients, so
# the client does not take the CPU the server is measured on) and aiohttp (the Python fallback).
bench-tools: setup
	@command -v wrk >/dev/null || { echo "installing Debian's wrk (load generator)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends wrk >/dev/null; }
	@$(BIN)/python -c 'import aiohttp' 2>/dev/null || $(BIN)/python -m pip install -q -e '.[bench]'

# issue 10's load test against the register `make run` serves (production and development server)
bench-load: bench-tools db
	LANDREG_DATABASE_URL=$(DB_URL) $(BIN)/python scripts/bench_load.py $(BENCH_ARGS)
