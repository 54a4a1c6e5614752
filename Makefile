# Every target installs what it needs first (scripts/bootstrap.sh is a no-op when nothing changed).
VENV := .venv/bin
FILE ?=

.PHONY: install local test fuzz lint typecheck check preview bench build clean

install:
	@./scripts/bootstrap.sh

## Run the whole pipeline on loopback: moto server + CloudZero emulator + local Lambda runner.
local: install
	@$(VENV)/python scripts/run_local.py $(if $(FILE),--file "$(FILE)")

## Every test: unit, integration (moto server + emulator over HTTP), end to end, template checks.
test: install
	@$(VENV)/pytest

## Hundreds of hostile uploads through the real splitter handler (also part of `make test`).
fuzz: install
	@$(VENV)/pytest tests/fuzz

lint: install
	@$(VENV)/ruff check .
	@$(VENV)/ruff format --check .
	@$(VENV)/mypy shared functions scripts tests
	@cd shared && ../$(VENV)/lint-imports --config ../pyproject.toml --no-cache

check: lint test

## What the pipeline would decide for a local file, without AWS:
##   make preview FILE=credits-2026-01.csv [ARGS="--cbf --known-accounts 123456789012"]
preview: install
	@$(VENV)/python scripts/preview.py "$(FILE)" $(ARGS)

bench: install
	@$(VENV)/python scripts/benchmark.py

build: install
	@PYENV_VERSION=3.12.1 $(VENV)/sam build

clean:
	rm -rf .aws-sam .pytest_cache .mypy_cache .ruff_cache .hypothesis
