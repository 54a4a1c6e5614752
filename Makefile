# Every target installs what it needs first (scripts/bootstrap.sh is a no-op when nothing changed).
VENV := .venv/bin
TOOLS := .venv-tools/bin
FILE ?=

.PHONY: install install-tools local test unit integration e2e chaos fuzz lint check preview bench build clean

install:
	@./scripts/bootstrap.sh

## .venv and .venv-tools (checkov: its pins clash with the project's, see requirements-tools.txt).
install-tools:
	@./scripts/bootstrap.sh --with-tools

## Run the whole pipeline on loopback: moto server + CloudZero emulator + local Lambda runner.
local: install
	@$(VENV)/python scripts/run_local.py $(if $(FILE),--file "$(FILE)")

## A local stack that stays up (moto + CloudZero emulator + runner) to try the operator commands on;
## it prints the environment to use. Ctrl-C or `make local-down` (from another shell) stops it.
.PHONY: local-up local-down
local-up: install
	@$(VENV)/python scripts/local_up.py $(ARGS)

## Stops the stack local-up started here; a pid file naming no running local-up is stale: removed, nothing signalled.
local-down: install
	@$(VENV)/python scripts/local_down.py

## Every test, in one run (one moto server): unit, integration, template, end to end, chaos.
test: install
	@$(VENV)/pytest

## Seconds: no servers, no subprocesses beyond one import probe. Fakes at the ports.
unit: install
	@$(VENV)/pytest tests/unit

## moto's server and the CloudZero emulator over HTTP; the template linted, checked and deployed into moto.
integration: install
	@$(VENV)/pytest tests/integration tests/template

## The whole pipeline per test: a fresh stack in moto, the emulator, the local runner.
e2e: install
	@$(VENV)/pytest tests/e2e

## The whole pipeline under fault storms and killed processes; prints its figures.
chaos: install
	@$(VENV)/pytest tests/chaos tests/integration/test_crash_recovery.py

## Hundreds of hostile uploads through the real splitter handler (also part of `make test`).
fuzz: install
	@$(VENV)/pytest tests/fuzz

lint: install-tools
	@$(VENV)/ruff check .
	@$(VENV)/ruff format --check .
	@$(VENV)/mypy shared functions scripts tests operator_commands
	@cd shared && ../$(VENV)/lint-imports --config ../pyproject.toml --no-cache
	@$(TOOLS)/checkov -f template.yaml --framework cloudformation --quiet --compact --skip-download

check: lint test

## What the pipeline would decide for a local file, without AWS:
##   make preview FILE=events/credits-2026-01.csv [ARGS="--cbf --known-accounts 123456789012"]
preview: install
	@if [ -z "$(FILE)" ]; then echo "make preview needs the file: make preview FILE=events/credits-2026-01.csv" >&2; exit 2; fi
	@$(VENV)/python scripts/preview.py "$(FILE)" $(ARGS)

## Speed and memory of each function's whole path against the team's targets (not part of `make test`):
##   make bench [ARGS="--quick" | ARGS="--full --json bench.json --memray captures/"]
bench: install
	@$(VENV)/python scripts/benchmark.py $(ARGS)

## sam build looks for python3.12 on PATH: .venv's is the Python 3.12 that bootstrap found. Then the
## build is compiled to bytecode: sam build ships none, and Lambda would compile every module at every cold start.
build: install
	@PATH="$(CURDIR)/.venv/bin:$$PATH" $(VENV)/sam build
	@$(VENV)/python scripts/compile_build.py

clean:
	rm -rf .aws-sam .pytest_cache .mypy_cache .ruff_cache .hypothesis
