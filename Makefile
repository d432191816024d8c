# The two commands of the README: `make demo` and `make test`. Both create what they need.
SHELL := /bin/bash
.DEFAULT_GOAL := help

# Python 3.12 matches the Lambda runtime in template.yaml; any Python >= 3.11 works.
PYTHON ?= $(shell for p in python3.12 $$(ls -d /root/.pyenv/versions/3.12*/bin/python3.12 2>/dev/null) python3.13 python3.11 python3; do \
	$$p -c 'import sys; assert sys.version_info >= (3, 11)' >/dev/null 2>&1 && { echo $$p; break; }; done)
VENV := .venv
BIN := $(VENV)/bin
MLFLOW_VENV := .venv-mlflow
TOOLS_VENV := .venv-tools
MLFLOW_VERSION := 3.17.2

.PHONY: help venv mlflow-venv tools-venv demo test test-unit test-integration lint bench sizes up clean

help:
	@echo "make demo   - start the local cloud, deploy template.yaml, run the pipeline, serve a forecast, show metrics"
	@echo "make test   - lint and run the whole test suite (unit + integration on the local cloud)"
	@echo "make bench  - run every benchmark and print one table"
	@echo "make up     - start the local cloud in the foreground (Ctrl-C stops it)"
	@echo "make sizes  - sam build and check every function + its layers against Lambda's 250 MiB"

# The project's environment: the packages the functions ship with, plus the local cloud and test tools.
$(BIN)/rps: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[local,test]'
	touch $@

venv: $(BIN)/rps mlflow-venv

# The MLflow tracking server lives in its own environment so its full mlflow does not hide
# mlflow-skinny-only failures in the functions' code.
$(MLFLOW_VENV)/bin/mlflow:
	test -x $(MLFLOW_VENV)/bin/python || $(PYTHON) -m venv $(MLFLOW_VENV)
	$(MLFLOW_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(MLFLOW_VENV)/bin/python -m pip install --quiet 'mlflow==$(MLFLOW_VERSION)' boto3
	touch $@

mlflow-venv: $(MLFLOW_VENV)/bin/mlflow

demo: venv
	$(BIN)/python -m rps_local.demo

lint: $(BIN)/rps
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test: venv
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -n 2 --dist loadgroup -q tests

test-unit: $(BIN)/rps
	$(BIN)/python -m pytest -q tests/unit

test-integration: venv
	$(BIN)/python -m pytest -q tests/integration

bench: venv
	$(BIN)/python -m bench

up: venv
	$(BIN)/rps up

clean:
	rm -rf .rps .aws-sam .pytest_cache .hypothesis
