# Developer entry points. `make run` and `make test` work on a fresh machine with python3 and make:
# they install uv when it is missing and sync the locked environment first.
SHELL := /bin/bash
UV := $(shell ./tools/ensure-uv.sh)
export UV_PYTHON_PREFERENCE ?= system

.PHONY: help sync proto proto-check lint test run bench bench-quick new-context

help:
	@echo "make run    - start the poker system and let bots play a game (DEMO_ARGS=...)"
	@echo "make test   - lint, check generated code, run every test"
	@echo "make proto  - regenerate Python code from proto/"
	@echo "make lint   - ruff"
	@echo "make bench  - run the benchmarks (< 10 min; bench/results/*.json); bench-quick: smoke run < 60 s"
	@echo "make new-context NAME=inventory - scaffold a new bounded context (docs/new-bounded-context.md)"

sync:
	$(UV) sync --all-packages --locked

proto: sync
	$(UV) run python tools/gen_proto.py

proto-check: sync
	$(UV) run python tools/gen_proto.py --check

lint: sync
	$(UV) run ruff check .

test: sync proto-check lint
	$(UV) run pytest

# The poker system in standalone mode, in a fresh temporary directory, with 4 bots playing 20 hands of
# no-limit Hold'em; then it is shut down. DEMO_ARGS passes options, e.g.
# `make run DEMO_ARGS="--variant omaha --hands 5 --keep-running"` (see `uv run poker-demo --help`).
run: sync
	$(UV) run poker-demo --standalone standalone.yaml $(DEMO_ARGS)

# A new bounded context from the template (docs/new-bounded-context.md): proto/$(NAME), libs/$(NAME)_contracts
# and services/$(NAME), registered in the workspace and installed, so `make test` runs its tests at once.
new-context:
	@[ -n "$(NAME)" ] || { echo "usage: make new-context NAME=<name>   (e.g. NAME=inventory)" >&2; exit 2; }
	$(UV) run python tools/new_context.py --name "$(NAME)" --register
	$(UV) lock
	$(UV) sync --all-packages

# Benchmarks (spec/coordinator.md §14, docs/performance.md): scripts under bench/ that print a table and
# write bench/results/<name>.json. `bench-quick` is a smoke run with small parameters (bench/results/quick/).
bench: sync
	$(UV) run python bench/run_all.py

bench-quick: sync
	$(UV) run python bench/run_all.py --quick
