# costwatch — every target installs what it needs; see README.md.
SHELL := /bin/bash
# One target directory shared by every clone on this machine, so a warm build is reused.
export CARGO_TARGET_DIR ?= $(HOME)/.cache/costwatch-target
# Real data and vendor specs live beside the project, never inside it.
export COSTWATCH_SHARED ?= $(abspath $(CURDIR)/../shared)

CARGO ?= cargo
OUT ?= costwatch-out
# Python tools (cfn-lint) live in one pinned virtualenv outside the clone.
VENV ?= $(HOME)/.cache/costwatch-venv
CFN_LINT_VERSION := 1.58.0
# moto server: the local AWS the store's AWS adapters are tested against (see crates/store/tests/aws.rs).
MOTO_VERSION := 5.2.5
# A stamp per pinned version, so bumping the pin reinstalls instead of trusting an old binary.
MOTO_STAMP := $(VENV)/.moto-$(MOTO_VERSION)

.PHONY: demo test lint lint-template build bench tools check-shared clean

demo:
	$(CARGO) run --quiet -p costwatch-cli -- demo --out $(OUT)
	@echo "open $(OUT)/report.html"

tools:
	@command -v cargo-nextest >/dev/null 2>&1 || $(CARGO) install cargo-nextest --locked

check-shared:
	@test -d "$(COSTWATCH_SHARED)/data" || { echo "error: shared data not found at $(COSTWATCH_SHARED) (set COSTWATCH_SHARED to the folder holding data/ and specs/)" >&2; exit 1; }

# Doc tests first: nextest's summary stays the last line of the run. --all-features builds the
# AWS adapters too; their tests start moto_server themselves from COSTWATCH_MOTO.
test: export COSTWATCH_MOTO = $(VENV)/bin/moto_server
test: tools check-shared $(MOTO_STAMP)
	$(CARGO) test --workspace --all-features --doc --quiet
	$(CARGO) nextest run --workspace --all-features --no-fail-fast

lint: lint-template
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets --all-features -- -D warnings

$(VENV)/bin/python:
	python3 -m venv $(VENV)

$(VENV)/bin/cfn-lint: | $(VENV)/bin/python
	$(VENV)/bin/pip install --quiet cfn-lint==$(CFN_LINT_VERSION)

$(MOTO_STAMP): | $(VENV)/bin/python
	$(VENV)/bin/pip install --quiet 'moto[server]==$(MOTO_VERSION)'
	touch $@

lint-template: $(VENV)/bin/cfn-lint
	$(VENV)/bin/cfn-lint template.yaml

build:
	$(CARGO) build --workspace --release

bench: check-shared
	$(CARGO) bench --workspace --benches

clean:
	rm -rf $(OUT) .costwatch
