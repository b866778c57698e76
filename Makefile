# plekzoeker: `make demo` runs the nightly flow on the bundled demo town; `make test` runs the tests.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export PLEKZOEKER_HOME ?= $(CURDIR)/.plekzoeker
export PREFECT_HOME ?= $(PLEKZOEKER_HOME)/prefect
export PREFECT_SERVER_ANALYTICS_ENABLED ?= false

.PHONY: demo test lint test-tools qgis-check install postgis db-start db-stop bench bench-national bench-soak reliability-report clean help

help:  ## list the targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | sed 's/:.*##/ —/'

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	@touch $(STAMP)

install: $(STAMP)  ## create the virtualenv and install plekzoeker with pinned dependencies

postgis:  ## install PostgreSQL 15 + PostGIS 3 if missing (apt, as root)
	@scripts/ensure-postgis.sh

db-start: install postgis  ## start the project's own PostGIS cluster
	$(BIN)/plekzoeker db start

db-stop:  ## stop it
	$(BIN)/plekzoeker db stop

demo: install postgis  ## generate the demo town, run the nightly flow on it, write out/latest/*.geojson
	$(BIN)/plekzoeker db start
	$(BIN)/plekzoeker demo-data demo-data
	$(BIN)/plekzoeker --config demo-data/demo.yaml nightly --out out
	@echo
	@echo "Open out/latest/map.html in a browser, or out/latest/plekzoeker.qgs in QGIS (both layers styled);"
	@echo "coordinators: out/latest/outreach_<GMxxxx>.xlsx; what changed since the last run: out/latest/changes.md"

test-tools:  ## install Chromium and QGIS for the map/QGIS tests if missing (apt, as root; skipped otherwise)
	@scripts/ensure-test-tools.sh

lint: install  ## ruff (rules in pyproject.toml [tool.ruff]); `make test` runs it first
	$(BIN)/ruff check .

test: install postgis test-tools lint  ## lint, then run the whole test suite against a real PostGIS
	$(BIN)/python -m pytest -q

bench: install postgis  ## run the benchmarks (ingest, access, map, transit, nightly) and write BENCHMARKS.md / benchmarks/results.json
	@scripts/ensure-bench-tools.sh
	$(BIN)/python -m benchmarks.run

qgis-check: test-tools  ## load out/latest in real QGIS (offscreen): feature counts, graduated styles, PNG renders
	QT_QPA_PLATFORM=offscreen /usr/bin/python3 scripts/qgis_check.py out/latest --png-dir out/qgis-check

clean:  ## remove generated data and outputs (keeps the venv and the database)
	rm -rf demo-data out tests/artifacts

bench-national: install postgis  ## national-scale benchmark on synthetic country-sized inputs (long)
	$(BIN)/python -m benchmarks.run --only national

bench-soak: install postgis  ## 30 accelerated nights with small input changes: growth of meta.*, out/, the database
	@scripts/ensure-bench-tools.sh
	$(BIN)/python -m benchmarks.run --only soak

reliability-report:  ## copy the reliability figures of the last `make test` into benchmarks/results.json
	$(BIN)/python scripts/reliability_report.py
