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
# Security scanners in their own virtualenv: checkov pins boto3 exactly, which clashes with requirements-dev.txt.
TOOLS_VENV := .venv-tools
TOOLS := $(TOOLS_VENV)/bin
TOOLS_STAMP := $(TOOLS_VENV)/.installed-$(shell cat requirements-tools.txt | sha1sum | cut -c1-12)
# dynalite, the integration tests' second DynamoDB (Node.js), from its lock file into tests/dynalite/node_modules.
DYNALITE := tests/dynalite
DYNALITE_STAMP := $(DYNALITE)/node_modules/.installed-$(shell cat $(DYNALITE)/package-lock.json | sha1sum | cut -c1-12)
# pytest-xdist: test processes side by side (auto: one per core); the end-to-end tests share one
# (tests/conftest.py) and so one local stack.
PYTEST_WORKERS ?= auto
PYTEST := $(BIN)/python -m pytest --numprocesses=$(PYTEST_WORKERS) --dist=loadgroup

.PHONY: install tools dynalite run test prerequisites static security cfn-lint checkov audit audit-runtime audit-dev lint typecheck \
	validate build pytest pytest-dynalite unit integration e2e contract contract-published bench clean

$(STAMP): requirements-dev.txt layers/ringbridge/requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	@# phonenumberslite installs the same phonenumbers package: a full phonenumbers left from before would clash.
	$(BIN)/python -m pip uninstall --quiet --disable-pip-version-check --yes phonenumbers
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	rm -f $(VENV)/.installed-*
	touch $@

install: $(STAMP)

$(TOOLS_STAMP): requirements-tools.txt
	$(PYTHON) -m venv $(TOOLS_VENV)
	$(TOOLS)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(TOOLS)/python -m pip install --quiet --disable-pip-version-check -r requirements-tools.txt
	rm -f $(TOOLS_VENV)/.installed-*
	touch $@

tools: $(TOOLS_STAMP)

$(DYNALITE_STAMP): $(DYNALITE)/package.json $(DYNALITE)/package-lock.json
	cd $(DYNALITE) && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	touch $@

dynalite: $(DYNALITE_STAMP)

run: install
	$(BIN)/python -m local

# First what this machine lacks (seconds), then the static checks side by side (each one's output
# in one piece, any failure fatal), then the tests.
test: prerequisites
	@$(MAKE) --no-print-directory --jobs=$(STATIC_JOBS) --output-sync=target static
	@$(MAKE) --no-print-directory pytest

prerequisites:
	@$(SAM_ENV) $(PYTHON) scripts/check_prerequisites.py

STATIC_JOBS ?= 4
static: security lint typecheck validate build dynalite

# cfn-lint (informational checks too) and checkov (settings: .checkov.yaml) must be clean; every
# suppression is in template.yaml with its reason. Then the dependency audit.
security: cfn-lint checkov audit

cfn-lint: install
	$(BIN)/cfn-lint --include-checks I -- template.yaml

checkov: tools
	$(TOOLS)/checkov -d .

# The shipped runtime fails the build on a known vulnerability; the dev tools are a report only.
# Without the advisory database (no network) both warn loudly and pass: see scripts/pip_audit_gate.py.
audit: audit-runtime audit-dev

audit-runtime: tools
	$(TOOLS)/python scripts/pip_audit_gate.py --fatal --pip-audit $(TOOLS)/pip-audit layers/ringbridge/requirements.txt

audit-dev: tools
	-$(TOOLS)/python scripts/pip_audit_gate.py --pip-audit $(TOOLS)/pip-audit requirements-dev.txt

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy
	@# Every function is a module named `app`: check them one at a time.
	@for handler in functions/*/app.py; do echo "mypy $$handler"; $(BIN)/mypy --config-file pyproject.toml $$handler || exit 1; done
	$(BIN)/mypy --config-file pyproject.toml scripts/pip_audit_gate.py scripts/check_bytecode.py scripts/check_prerequisites.py

validate: install
	$(SAM_ENV) $(BIN)/sam validate --lint

# The layer and the functions build with BuildMethod: makefile (build/lambda.mk): python3.13 compiles every
# module to unchecked-hash bytecode, then check_bytecode.py fails the build below 90 % (or without arm64 wheels).
# sam's build cache keys on each code folder only: a change to build/lambda.mk must clear it.
.aws-sam/.lambda-mk: build/lambda.mk
	rm -rf .aws-sam/cache .aws-sam/build
	mkdir -p .aws-sam && touch $@

build: install .aws-sam/.lambda-mk
	$(SAM_ENV) $(BIN)/sam build
	$(BIN)/python scripts/check_bytecode.py .aws-sam/build

# Every test on moto, then the integration suite again on dynalite (tests/integration/backends.py).
pytest: install dynalite
	$(PYTEST)
	@$(MAKE) --no-print-directory pytest-dynalite

pytest-dynalite: install dynalite
	$(PYTEST) tests/integration --dynamodb=dynalite

unit: install
	$(PYTEST) tests/unit

integration: install dynalite
	$(PYTEST) tests/integration
	$(PYTEST) tests/integration --dynamodb=dynalite

e2e: install
	$(PYTEST) -m e2e

# The adapters against the strict fakes, every request and answer checked against tests/contract/*_api.yaml.
contract: install
	$(PYTEST) tests/contract tests/integration/test_keycrm_adapter.py tests/integration/test_nethunt_adapter.py

# Extra, outside `make test`: the KeyCRM scenario against KeyCRM's full published document in ../shared.
contract-published: install
	$(PYTEST) -m published_contract tests/contract

clean:
	rm -rf $(VENV) $(TOOLS_VENV) $(DYNALITE)/node_modules .aws-sam .pytest_cache .mypy_cache .ruff_cache

# The cold-start figures run the built layer and functions under python3.13 (tests/bench/coldstart.py).
bench: install build
	$(SAM_ENV) $(BIN)/python -m tests.bench
