# ringbridge: `make run` starts the whole system locally, `make test` checks everything.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Reinstall whenever a requirements file changes.
STAMP := $(VENV)/.installed-$(shell cat requirements-dev.txt layers/ringbridge/requirements.txt | sha1sum | cut -c1-12)
# `sam build` needs the functions' runtime (python3.13) on PATH; with pyenv, expose it beside the default.
PYENV_313 := $(shell pyenv versions --bare 2>/dev/null | grep '^3\.13' | tail -1)
SAM_ENV := SAM_CLI_TELEMETRY=0 $(if $(PYENV_313),PYENV_VERSION=$(shell pyenv version-name 2>/dev/null):$(PYENV_313))

.PHONY: install run test lint typecheck validate build pytest unit integration e2e bench clean

$(STAMP): requirements-dev.txt layers/ringbridge/requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	rm -f $(VENV)/.installed-*
	touch $@

install: $(STAMP)

run: install
	$(BIN)/python -m local

test: lint typecheck validate build pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy
	@# Every function is a module named `app`: check them one at a time.
	@for handler in functions/*/app.py; do echo "mypy $$handler"; $(BIN)/mypy --config-file pyproject.toml $$handler || exit 1; done

validate: install
	$(SAM_ENV) $(BIN)/sam validate --lint

build: install
	$(SAM_ENV) $(BIN)/sam build

pytest: install
	$(BIN)/python -m pytest

unit: install
	$(BIN)/python -m pytest tests/unit

integration: install
	$(BIN)/python -m pytest tests/integration

e2e: install
	$(BIN)/python -m pytest tests/e2e

clean:
	rm -rf $(VENV) .aws-sam .pytest_cache .mypy_cache .ruff_cache

bench: install
	$(BIN)/python -m tests.bench
