# Two commands do all the set-up on a fresh machine:
#   make demo   - install, generate the sample archive, run the DAGs through Airflow, publish, print headlines
#   make test   - install and run the whole offline test suite
#   make docs   - rebuild published/docs/ (dbt docs site, gate result pages) from the published file
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat requirements.lock pyproject.toml | sha1sum | cut -c1-12)

DEMO_ENV := OPCC_CONFIG=config/demo.toml AIRFLOW_HOME=$(CURDIR)/var/demo/airflow
export AIRFLOW__CORE__DAGS_FOLDER := $(CURDIR)/dags
export AIRFLOW__CORE__LOAD_EXAMPLES := False
export AIRFLOW__CORE__PARALLELISM := 4
export AIRFLOW__CORE__UNIT_TEST_MODE := False
export PYTHONPATH := $(CURDIR)
# Python caches the modules it compiles (__pycache__) unless told not to; a shell that sets
# PYTHONDONTWRITEBYTECODE makes every process compile Airflow and dbt afresh (about 3 s each).
unexport PYTHONDONTWRITEBYTECODE

.PHONY: help venv demo docs test test-services services-deps bench airflow-init sample lock clean

help:
	@echo "make demo   - run the pipeline end to end on the bundled sample data (offline)"
	@echo "make test   - run the offline test suite"
	@echo "make docs   - documentation beside the published file (published/docs/index.html)"
	@echo "make bench  - national-scale benchmark (not part of make test)"

venv: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	$(PYTHON) -m pip install --quiet --disable-pip-version-check uv
	$(PYTHON) -m uv venv --quiet --allow-existing -p 3.11 $(VENV)
	$(PYTHON) -m uv pip install --quiet -p $(PY) -r requirements.lock
	$(PYTHON) -m uv pip install --quiet -p $(PY) --no-deps -e .
	rm -f $(VENV)/.installed-*
	touch $@

# Re-resolve the pinned set (needs the package registry).
lock:
	$(PYTHON) -m uv pip compile --quiet pyproject.toml --extra test -p 3.11 -o requirements.lock

sample: venv
	$(DEMO_ENV) $(PY) -m devtools.demo sample

airflow-init: venv
	$(DEMO_ENV) $(PY) -m ingest.airflow_home

# One line per step (sample, Airflow home, each DAG run, dbt build, report, docs, then the headlines);
# every log line goes to var/demo/logs/demo-<time>.log, named at the start and the end.
# `make demo DEMO_ARGS=--verbose` shows them all instead.
demo: venv
	@$(DEMO_ENV) $(PY) -m devtools.demo run $(DEMO_ARGS)

# The dbt docs site and the gate result pages, written to published/docs/ (the demo's paths;
# elsewhere run `python -m ingest.docs_site` with the deployment's OPCC_CONFIG).
docs: venv
	$(DEMO_ENV) $(PY) -m ingest.docs_site

# PostgreSQL for the real-services test, Chromium for the report's browser test (Debian packages;
# no cluster is started here).
services-deps:
	@if ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then \
	  echo "installing PostgreSQL (Debian package) for the real-services test"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; \
	fi
	@if ! command -v chromium >/dev/null 2>&1; then \
	  echo "installing Chromium (Debian package) for the report's browser test"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium poppler-utils >/dev/null; \
	fi

test: venv services-deps
	$(PY) -m pytest

# Only the real-services test: PostgreSQL + Airflow components on loopback, driven through the REST API.
test-services: venv services-deps
	$(PY) -m pytest -m services tests/services

bench: venv
	$(PY) -m bench.run

clean:
	rm -rf var published reports
