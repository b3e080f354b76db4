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
CFN_LINT_STAMP := $(VENV)/.cfn-lint-$(CFN_LINT_VERSION)
# Azurite: the local Azure Blob Storage the Azure archive is tested against (npm, pinned; 3.35
# runs on Node 20). Installed into its own folder; the tests start and stop it themselves.
AZURITE_VERSION := 3.35.0
AZURITE_DIR ?= $(HOME)/.cache/costwatch-azurite
AZURITE_STAMP := $(AZURITE_DIR)/.azurite-$(AZURITE_VERSION)
# AWS SAM CLI and cargo-lambda (which brings zig) share one pinned virtualenv: cargo-lambda finds
# zig through `python3 -m ziglang`, so this venv goes first on PATH whenever sam runs.
SAM_VENV ?= $(HOME)/.cache/costwatch-sam
SAM_VERSION := 1.170.0
CARGO_LAMBDA_VERSION := 1.9.2
SAM_STAMP := $(SAM_VENV)/.sam-$(SAM_VERSION)-cargo-lambda-$(CARGO_LAMBDA_VERSION)
SAM := PATH="$(SAM_VENV)/bin:$$PATH" SAM_CLI_TELEMETRY=0 $(SAM_VENV)/bin/sam
# checkov in a venv of its own, so its dependency pins never meet aws-sam-cli's.
CHECKOV_VENV ?= $(HOME)/.cache/costwatch-checkov
CHECKOV_VERSION := 3.3.30
CHECKOV_STAMP := $(CHECKOV_VENV)/.checkov-$(CHECKOV_VERSION)
CHECKOV := CKV_SKIP_PACKAGE_UPDATE_CHECK=true $(CHECKOV_VENV)/bin/checkov --framework cloudformation --quiet --compact --skip-download
# Lambda runs arm64 (template.yaml); sam build cross-compiles for this target with cargo-lambda.
LAMBDA_TARGET := aarch64-unknown-linux-gnu
# Extra flags for `make deploy`, e.g. DEPLOY_FLAGS="--region eu-west-1".
DEPLOY_FLAGS ?=
# The region a guided deploy saved in samconfig.toml's [default.deploy.parameters]; empty until
# the first `make deploy` (which is then guided).
DEPLOY_REGION = $(shell awk -F' *= *' '/^\[/ {s = ($$0 == "[default.deploy.parameters]")} s && $$1 == "region" {gsub(/"/, "", $$2); print $$2}' samconfig.toml)
# The stack `make smoke` checks (samconfig.toml's stack_name).
STACK ?= costwatch
# `make demo INTEGRATIONS=fakes`: then the four scenarios against the vendor fakes on loopback.
INTEGRATIONS ?=

.PHONY: demo demo-serve browser fuzz-api fuzz bench-reliability bench-coldstart bench-cur bench-scale test lint deny lint-template build build-local deploy destroy smoke screenshots deployer-policy lambda-target bench bench-forecast bench-forecast-windows nab nab-folds tools check-shared clean

# A lean CLI for the demo: no AWS SDK and no HTTP client (--no-default-features), so a cold
# `make demo` takes minutes; INTEGRATIONS adds the dispatchers (`integrations` feature), never
# the SDK. Every other command and target builds the full CLI.
DEMO_FEATURES = --no-default-features $(if $(INTEGRATIONS),--features integrations)
demo:
	$(CARGO) run --quiet -p costwatch-cli $(DEMO_FEATURES) -- demo --out $(OUT) $(if $(INTEGRATIONS),--integrations $(INTEGRATIONS))
	@echo "open $(OUT)/report.html"
	@echo "for the API and dashboard: make demo-serve, then open http://127.0.0.1:$(SERVE_PORT)/"

# The REST API and dashboard (crates/api) on the demo's data, loopback only, until Ctrl-C.
SERVE_PORT ?= 8787
demo-serve:
	@test -d $(OUT)/data || $(MAKE) demo
	$(CARGO) run --quiet -p costwatch-cli $(DEMO_FEATURES) -- serve --demo $(OUT) --listen 127.0.0.1:$(SERVE_PORT)

# Headless Chromium and chromedriver for the dashboard test (tests/cli_serve.rs): Debian's
# packages, installed when missing.
browser:
	@command -v chromedriver >/dev/null 2>&1 || { $$([ "$$(id -u)" = 0 ] || echo sudo) apt-get update && \
	  $$([ "$$(id -u)" = 0 ] || echo sudo) apt-get install -y chromium chromium-driver; }

# Property-based fuzzing of the REST API against its own document (docs/api.md): schemathesis,
# pinned, in a virtualenv of its own, against `costwatch serve` (the lean CLI) on a throwaway
# demo. Every operation of /openapi.json gets generated inputs, valid and invalid (POSTs change
# the throwaway demo's state); it fails on a 5xx, a status or content type the document does not
# declare, or a body off its schema. FUZZ_EXAMPLES cases per operation and phase, FUZZ_SEED fixed
# so a failure reproduces; the report lands in $(CARGO_TARGET_DIR)/tmp/schemathesis.
SCHEMATHESIS_VENV ?= $(HOME)/.cache/costwatch-schemathesis
SCHEMATHESIS_VERSION := 4.32.5
SCHEMATHESIS_STAMP := $(SCHEMATHESIS_VENV)/.schemathesis-$(SCHEMATHESIS_VERSION)
FUZZ_EXAMPLES ?= 100
FUZZ_SEED ?= 20261203
FUZZ_CHECKS := not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance

$(SCHEMATHESIS_VENV)/bin/python:
	python3 -m venv $(SCHEMATHESIS_VENV)

$(SCHEMATHESIS_STAMP): | $(SCHEMATHESIS_VENV)/bin/python
	$(SCHEMATHESIS_VENV)/bin/pip install --quiet schemathesis==$(SCHEMATHESIS_VERSION)
	touch $@

# A free port from the kernel, the demo and the server in a temporary directory (removed, and
# the server stopped by its pid, on exit); schemathesis waits until the document is served.
fuzz-api: $(SCHEMATHESIS_STAMP)
	$(CARGO) build --quiet -p costwatch-cli --no-default-features
	@set -euo pipefail; bin="$(CARGO_TARGET_DIR)/debug/costwatch"; dir=$$(mktemp -d); pid=; \
	  trap 'rc=$$?; [ $$rc -eq 0 ] || cat "$$dir/serve.log" >&2 || true; \
	    if [ -n "$$pid" ]; then kill $$pid 2>/dev/null || true; wait $$pid 2>/dev/null || true; fi; rm -rf "$$dir"' EXIT; \
	  port=$$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'); \
	  cd "$$dir"; \
	  env -u COSTWATCH_CONFIG -u COSTWATCH_DATA_DIR "$$bin" demo --out "$$dir/demo" > demo.log; \
	  env -u COSTWATCH_CONFIG -u COSTWATCH_DATA_DIR "$$bin" serve --demo "$$dir/demo" --listen "127.0.0.1:$$port" > serve.log 2>&1 & pid=$$!; \
	  $(SCHEMATHESIS_VENV)/bin/st --no-color run "http://127.0.0.1:$$port/openapi.json" --wait-for-schema 60 \
	    --checks $(FUZZ_CHECKS) --max-examples $(FUZZ_EXAMPLES) --seed $(FUZZ_SEED) \
	    --phases examples,coverage,fuzzing --workers 2 \
	    --report junit --report-dir "$(CARGO_TARGET_DIR)/tmp/schemathesis"

# Property-based fuzzing of every parser of outside input (tests/fuzz.rs of ingest, lambda,
# dispatch, dispatch-discord and cli: CE JSON, CUR CSV/Parquet, FOCUS CSV, metric and forecast
# CSV, EventBridge/SNS/SQS events, config TOML/JSON, Retry-After, Discord rate-limit bodies):
# no panic, memory bounded per input (costwatch_testkit::fuzz). make test runs each target's
# own small number of cases; this runs FUZZ_CASES each (proptest's PROPTEST_CASES).
FUZZ_CASES ?= 20000
fuzz: tools check-shared
	PROPTEST_CASES=$(FUZZ_CASES) $(CARGO) nextest run --workspace --all-features --no-fail-fast -E 'test(/^fuzz_/)'

tools:
	@command -v cargo-nextest >/dev/null 2>&1 || $(CARGO) install cargo-nextest --locked

check-shared:
	@test -d "$(COSTWATCH_SHARED)/data" || { echo "error: shared data not found at $(COSTWATCH_SHARED) (set COSTWATCH_SHARED to the folder holding data/ and specs/)" >&2; exit 1; }

# Doc tests first: nextest's summary stays the last line of the run. --all-features builds the
# AWS adapters too; their tests start moto_server themselves from COSTWATCH_MOTO.
test: export COSTWATCH_MOTO = $(VENV)/bin/moto_server
test: export COSTWATCH_AZURITE = $(AZURITE_DIR)/node_modules/.bin/azurite-blob
test: tools check-shared browser $(MOTO_STAMP) $(AZURITE_STAMP) $(SCHEMATHESIS_STAMP)
	$(CARGO) test --workspace --all-features --doc --quiet
	$(VENV)/bin/python scripts/test_smoke.py
	$(CARGO) nextest run -p costwatch-cli --no-default-features --test cli_lean
	$(MAKE) --no-print-directory fuzz-api
	$(CARGO) nextest run --workspace --all-features --no-fail-fast

# --all-targets leaves out benches marked `bench = false` (make bench-forecast's three), so they
# are linted by name: an unused import sat in forecast_accuracy unseen until `cargo bench` warned.
lint: lint-template deny
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets --all-features -- -D warnings
	$(CARGO) clippy -p costwatch-analytics --all-features --bench forecast_accuracy --bench forecast_speed --bench forecast_windows -- -D warnings

$(VENV)/bin/python:
	python3 -m venv $(VENV)

$(CFN_LINT_STAMP): | $(VENV)/bin/python
	$(VENV)/bin/pip install --quiet cfn-lint==$(CFN_LINT_VERSION)
	touch $@

$(MOTO_STAMP): | $(VENV)/bin/python
	$(VENV)/bin/pip install --quiet 'moto[server]==$(MOTO_VERSION)'
	touch $@

$(AZURITE_STAMP):
	@command -v npm >/dev/null 2>&1 || { echo "error: npm (Node.js 20 or newer) is needed to install Azurite for the Azure archive tests" >&2; exit 1; }
	npm install --silent --no-audit --no-fund --prefix $(AZURITE_DIR) azurite@$(AZURITE_VERSION)
	touch $@

$(SAM_VENV)/bin/python:
	python3 -m venv $(SAM_VENV)

# aws-sam-cli takes 5–7 minutes to install on a clean machine; the stamp keeps it to once.
$(SAM_STAMP): | $(SAM_VENV)/bin/python
	$(SAM_VENV)/bin/pip install --quiet aws-sam-cli==$(SAM_VERSION) cargo-lambda==$(CARGO_LAMBDA_VERSION)
	touch $@

$(CHECKOV_VENV)/bin/python:
	python3 -m venv $(CHECKOV_VENV)

$(CHECKOV_STAMP): | $(CHECKOV_VENV)/bin/python
	$(CHECKOV_VENV)/bin/pip install --quiet checkov==$(CHECKOV_VERSION)
	touch $@

# The nested templates template.yaml instantiates (AWS::Serverless::Application, local Location):
# one dispatcher template for every integration.
NESTED_TEMPLATES := $(wildcard templates/*.yaml)

# template.yaml through cfn-lint, `sam validate --lint` and checkov; offline, no credentials
# (the region only names the partition). checkov drops resources whose Condition is false
# under the default parameters, so it runs a second time on a copy with every integration
# (Enable*) switched on (the integrations' own resources are in the nested template, checked
# below; the copy still covers whatever else their conditions switch). None of the three lints a nested template's resources from the root
# (cfn-lint only checks the parameters passed to it; checkov and sam validate do not open it),
# so each nested template goes through all three on its own; it has no conditions, so one
# checkov run covers it.
# Licences, bans and sources of every dependency (deny.toml has the policy). cargo-deny pinned,
# installed into ~/.cargo/bin on first use (a few minutes' build: it ships no binary we can fetch).
CARGO_DENY_VERSION := 0.20.2
deny:
	@cargo deny --version 2>/dev/null | grep -qx 'cargo-deny $(CARGO_DENY_VERSION)' || \
	  $(CARGO) install cargo-deny --version $(CARGO_DENY_VERSION) --locked
	$(CARGO) deny check licenses bans sources

lint-template: $(CFN_LINT_STAMP) $(SAM_STAMP) $(CHECKOV_STAMP)
	$(VENV)/bin/cfn-lint template.yaml $(NESTED_TEMPLATES)
	$(SAM_VENV)/bin/python scripts/deployer_policy.py $(CFN_SCHEMAS) --check
	$(SAM) validate --lint --region us-east-1 --template-file template.yaml
	@for t in $(NESTED_TEMPLATES); do \
	  echo "sam validate --lint --region us-east-1 --template-file $$t" && \
	  $(SAM) validate --lint --region us-east-1 --template-file "$$t" || exit 1; done
	$(CHECKOV) -f template.yaml
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	  sed -E -e '/^  Enable[A-Za-z]+:/,/Default:/ s/Default: "false"/Default: "true"/' \
	    -e '/^  CostSource:/,/Default:/ s/Default: CostExplorer/Default: DataExports/' \
	    -e '/^  CurPrefix:/,/Default:/ s|Default: ""|Default: cur/costwatch|' template.yaml > "$$tmp/template-all-integrations.yaml" && \
	  if cmp -s template.yaml "$$tmp/template-all-integrations.yaml"; then \
	    echo "error: found no Enable* parameter defaulting to \"false\" to switch on for checkov" >&2; exit 1; fi && \
	  if ! grep -q '^    Default: DataExports$$' "$$tmp/template-all-integrations.yaml"; then \
	    echo "error: found no CostSource parameter defaulting to CostExplorer to switch to DataExports for checkov" >&2; exit 1; fi && \
	  echo "checkov, every integration enabled, CostSource=DataExports:" && $(CHECKOV) -f "$$tmp/template-all-integrations.yaml"
	@for t in $(NESTED_TEMPLATES); do \
	  echo "checkov, nested template $$t:" && $(CHECKOV) -f "$$t" || exit 1; done

# docs/deployer-policy.json: the deployer's IAM actions, from the SAM-transformed templates and
# the resource handlers' permissions in the AWS resource schemas cfn-lint ships.
CFN_SCHEMAS = $(firstword $(wildcard $(VENV)/lib/python3*/site-packages/cfnlint/data/schemas))
deployer-policy: $(CFN_LINT_STAMP) $(SAM_STAMP)
	$(SAM_VENV)/bin/python scripts/deployer_policy.py $(CFN_SCHEMAS)

# The arm64 Rust target sam build cross-compiles for; added with rustup when missing.
lambda-target:
	@test -d "$$(rustc --print target-libdir --target $(LAMBDA_TARGET) 2>/dev/null)" \
	  || rustup target add $(LAMBDA_TARGET) \
	  || { echo "error: the Rust target $(LAMBDA_TARGET) is not installed and 'rustup target add $(LAMBDA_TARGET)' failed (no network to static.rust-lang.org, or no rustup?). Add it where the network is reachable; sam build needs it for the arm64 Lambdas." >&2; exit 1; }

# Every function through cargo-lambda (arm64, release) into .aws-sam/build; see samconfig.toml.
build: $(SAM_STAMP) lambda-target
	$(SAM) build

# The workspace's release build for this machine (CLI and all), as `make build` was before SAM.
build-local:
	$(CARGO) build --workspace --release

# Deploys what `make build` built: `sam deploy --guided` the first time (it asks for the region
# and the parameters and saves them in samconfig.toml), plain `sam deploy` once they are saved.
deploy: build
	$(SAM) deploy $(if $(DEPLOY_REGION),,--guided) $(DEPLOY_FLAGS)

# Deletes the stack and its nested dispatcher stacks (sam asks first). The lake bucket and the
# state table are kept (DeletionPolicy: Retain); docs/deploying.md says how to remove them.
destroy: $(SAM_STAMP)
	$(SAM) delete $(if $(DEPLOY_REGION),--region $(DEPLOY_REGION))

# The deployed stack end to end, from outside (needs credentials for its account): invokes
# collect (Cost Explorer requests within CeMaxRequestsPerRun, $$0.01 each), then report until it
# has a day, and checks the report's HTML object appeared in the lake bucket. boto3 comes from
# the SAM venv.
smoke: $(SAM_STAMP)
	$(SAM_VENV)/bin/python scripts/smoke.py --stack $(STACK) $(if $(DEPLOY_REGION),--region $(DEPLOY_REGION))

# One function's real binary under the local Runtime API, without Docker (the `sam local invoke`
# of this project): `make invoke FUNCTION=collect EVENT=events/collect/scheduled.json`, on a moto
# started for it; INVOKE_FLAGS=--aws for your account (credentials and COSTWATCH_* resource names
# from the environment). Release binaries by default, as deployed (for this machine, not arm64);
# INVOKE_PROFILE=dev builds in a fraction of the time. FUNCTION is a pipeline function or an
# integration (slack, jira, …).
.PHONY: invoke
FUNCTION ?=
EVENT ?=
INVOKE_FLAGS ?=
INVOKE_PROFILE ?= release
INVOKE_CRATE = costwatch-$(if $(filter collect aggregate detect forecast report,$(FUNCTION)),$(FUNCTION),dispatch-$(patsubst dispatch-%,%,$(FUNCTION)))
INVOKE_DIR = $(if $(filter dev,$(INVOKE_PROFILE)),debug,$(INVOKE_PROFILE))
invoke: $(MOTO_STAMP)
	@test -n "$(FUNCTION)" || { echo "usage: make invoke FUNCTION=collect EVENT=events/collect/scheduled.json [INVOKE_FLAGS=--aws] [INVOKE_PROFILE=dev]" >&2; exit 2; }
	$(CARGO) build --quiet --profile $(INVOKE_PROFILE) -p costwatch-cli -p $(INVOKE_CRATE)
	COSTWATCH_MOTO=$(VENV)/bin/moto_server $(CARGO_TARGET_DIR)/$(INVOKE_DIR)/costwatch invoke $(FUNCTION) $(if $(EVENT),--event $(EVENT)) $(INVOKE_FLAGS)

# The README's pictures in docs/img/: the demo's report.html, and one anomaly message per chat
# tool as it shows the payload the project's own encoder makes (`costwatch render` → a preview
# page by scripts/chat_preview.py), by headless Chromium (Debian's `chromium`, installed when
# missing). One lean build (no AWS SDK) serves the demo and render.
SCREENSHOT_ENVELOPE ?= events/notifications/anomaly.json
SCREENSHOT_CLI = $(CARGO) run --quiet -p costwatch-cli --no-default-features --features integrations --
screenshots:
	@command -v chromium >/dev/null 2>&1 || { $$([ "$$(id -u)" = 0 ] || echo sudo) apt-get update && \
	  $$([ "$$(id -u)" = 0 ] || echo sudo) apt-get install -y chromium; }
	$(SCREENSHOT_CLI) demo --out $(OUT) >/dev/null
	@mkdir -p docs/img
	scripts/screenshot.sh $(OUT)/report.html docs/img/report.png 1100 1320
	@for v in slack teams discord; do \
	  $(SCREENSHOT_CLI) render --integration $$v --input $(SCREENSHOT_ENVELOPE) \
	    | python3 scripts/chat_preview.py $$v > $(OUT)/$$v-preview.html && \
	  scripts/screenshot.sh $(OUT)/$$v-preview.html docs/img/$$v.png 680 || exit 1; done

bench: check-shared nab
	$(CARGO) bench --workspace --benches

# The conformance suite's fault drill and alert storm for every integration with 10,000
# envelopes each (make test runs them with 300): faults, crashes, SQS duplicates and permanent
# refusals on a simulated queue, then 10,000 anomalies in one minute. Each drill asserts its
# outcome and writes its figures to $(DRILL_OUT)/drills.txt, printed at the end. ~15 min on 2 cores.
DRILL_ENVELOPES ?= 10000
DRILL_OUT ?= $(CARGO_TARGET_DIR)/bench-reliability
bench-reliability: tools check-shared
	rm -rf $(DRILL_OUT) && mkdir -p $(DRILL_OUT)
	COSTWATCH_DRILL_ENVELOPES=$(DRILL_ENVELOPES) COSTWATCH_DRILL_OUT=$(DRILL_OUT) \
	  $(CARGO) nextest run --workspace --all-features --no-fail-fast -E 'test(/fault_drill|alert_storm/)'
	sort $(DRILL_OUT)/drills.txt

# Each Lambda's cold start under the local Runtime API (time to its first /next, peak RSS,
# binary size) beside a hello-world lambda_runtime binary, all built with the release profile
# for this machine (fat LTO: a cold build takes most of an hour on 2 cores), on one moto.
# COLDSTART_RUNS starts each; the figures are medians. See README "Cold start".
COLDSTART_RUNS ?= 20
LAMBDA_PACKAGES := costwatch-hello-lambda $(foreach f,collect aggregate detect forecast report,costwatch-$(f)) \
  $(patsubst crates/%,costwatch-%,$(filter-out crates/dispatch-kit,$(wildcard crates/dispatch-*)))
DISPATCH_LAMBDA_FEATURES := $(foreach p,$(filter costwatch-dispatch-%,$(LAMBDA_PACKAGES)),$(p)/lambda)
bench-coldstart: $(MOTO_STAMP)
	$(CARGO) build --release --bins --features '$(DISPATCH_LAMBDA_FEATURES)' $(addprefix -p ,$(LAMBDA_PACKAGES))
	$(CARGO) build --quiet -p costwatch-cli
	COSTWATCH_MOTO=$(VENV)/bin/moto_server $(CARGO_TARGET_DIR)/debug/costwatch bench coldstart \
	  --bin-dir $(CARGO_TARGET_DIR)/release --runs $(COLDSTART_RUNS)

# The daily run at organisation scale (docs/scale.md): a synthetic organisation of
# SCALE_ACCOUNTS accounts × 16 services × SCALE_DAYS days seeded into the local store and into
# the emulated stack (SCALE_MOTO_DAYS of its history), then one daily run on each — aggregate,
# detect, forecast and budgets, report — in a process of its own: time per step, peak RSS,
# DynamoDB request units. S3 and SNS on moto; DynamoDB on SCALE_DYNAMODB, dynalite by default:
# moto answers each Query by scanning the whole table, hours at 1,000 accounts. The dev build,
# as `make test` builds it.
SCALE_ACCOUNTS ?= 1000
SCALE_DAYS ?= 400
SCALE_MOTO_DAYS ?= 122
SCALE_DYNAMODB ?= dynalite
SCALE_OUT ?= $(CARGO_TARGET_DIR)/bench-scale
# dynalite: a DynamoDB server on LevelDB (npm, pinned), in memory, for bench-scale only.
DYNALITE_VERSION := 4.0.0
DYNALITE_DIR ?= $(HOME)/.cache/costwatch-dynalite
DYNALITE_STAMP := $(DYNALITE_DIR)/.dynalite-$(DYNALITE_VERSION)
# Import + daily roll-ups of a generated CUR 2.0 month (Data Exports layout) per size, one core
# each: time, peak memory (docs/benchmarks.md, CUR import). The CLI without the AWS SDK, built
# with the `cli` profile (speed, not size). The exports are written once under CUR_BENCH_DIR.
CUR_BENCH_LINES ?= 1000000 3000000 10000000
CUR_BENCH_DIR ?= $(HOME)/.cache/costwatch-bench-cur
bench-cur:
	$(CARGO) build --profile cli -p costwatch-cli --no-default-features --features data-exports
	$(CARGO_TARGET_DIR)/cli/costwatch bench cur --dir $(CUR_BENCH_DIR) \
	  $(addprefix --lines ,$(CUR_BENCH_LINES))

bench-scale: $(MOTO_STAMP) $(DYNALITE_STAMP)
	$(CARGO) build --quiet -p costwatch-cli
	COSTWATCH_MOTO=$(VENV)/bin/moto_server COSTWATCH_DYNALITE=$(DYNALITE_DIR)/node_modules/.bin/dynalite \
	  $(CARGO_TARGET_DIR)/debug/costwatch bench scale --accounts $(SCALE_ACCOUNTS) --days $(SCALE_DAYS) \
	  --moto-days $(SCALE_MOTO_DAYS) --dynamodb $(SCALE_DYNAMODB) --out $(SCALE_OUT)

$(DYNALITE_STAMP):
	@command -v npm >/dev/null 2>&1 || { echo "error: npm (Node.js 20 or newer) is needed to install dynalite for bench-scale" >&2; exit 1; }
	npm install --silent --no-audit --no-fund --prefix $(DYNALITE_DIR) dynalite@$(DYNALITE_VERSION)
	touch $@

# Forecast accuracy and speed against naive, seasonal naive, statsforecast's AutoETS and
# Prophet, all in one run on this machine (both from a pinned virtualenv). ~20 min; see README.
STATSFORECAST_VERSION := 2.1.1
PROPHET_VERSION := 1.5.0
SF_VENV ?= $(HOME)/.cache/costwatch-statsforecast
SF_STAMP := $(SF_VENV)/.statsforecast-$(STATSFORECAST_VERSION)-prophet-$(PROPHET_VERSION)
BENCH_OUT ?= $(CURDIR)/target/bench-forecast
BENCH_SERIES ?= 100000

$(SF_VENV)/bin/python:
	python3 -m venv $(SF_VENV)

$(SF_STAMP): | $(SF_VENV)/bin/python
	$(SF_VENV)/bin/pip install --quiet statsforecast==$(STATSFORECAST_VERSION) prophet==$(PROPHET_VERSION)
	touch $@

bench-forecast: check-shared $(SF_STAMP)
	COSTWATCH_BENCH_OUT=$(BENCH_OUT) $(CARGO) bench -p costwatch-analytics --bench forecast_accuracy
	COSTWATCH_BENCH_OUT=$(BENCH_OUT) COSTWATCH_BENCH_SERIES=$(BENCH_SERIES) $(CARGO) bench -p costwatch-analytics --bench forecast_speed
	$(SF_VENV)/bin/python bench/forecast/evaluate.py $(BENCH_OUT)

# The forecaster alone on the bench's earlier windows and the older ones before them (no
# baselines, no Python): where a change is tried before bench-forecast reports it. With
# COMPARE=<an earlier run's windows/ dir>, window by window against that run.
bench-forecast-windows: check-shared
	COSTWATCH_BENCH_OUT=$(BENCH_OUT) $(if $(COMPARE),COSTWATCH_BENCH_COMPARE=$(COMPARE)) $(CARGO) bench -p costwatch-analytics --bench forecast_windows

# The stream detector on the 35 shared NAB files (`costwatch bench nab`), then NAB's scoring
# (standard / low FP / low FN) of what it wrote. Benchmark code, not a test.
# NAB_CHECKOUT=path/to/NAB scores a NAB checkout's whole corpus (its data, labels and profiles).
NAB_CHECKOUT ?=
NAB_DATA ?= $(if $(NAB_CHECKOUT),$(NAB_CHECKOUT)/data,$(COSTWATCH_SHARED)/data/nab)
NAB_OUT ?= $(CARGO_TARGET_DIR)/nab-results$(if $(NAB_CHECKOUT),-checkout)
# The CLI's debug build is enough: the analytics are optimised in dev, and it shares the build
# with the tests instead of compiling the AWS SDK a second time in release.
nab: $(if $(NAB_CHECKOUT),,check-shared)
	$(CARGO) run --quiet -p costwatch-cli -- bench nab --data $(NAB_DATA) --out $(NAB_OUT)
	$(CARGO) run --release --quiet -p costwatch-analytics --example nab_score -- $(NAB_OUT) $(if $(NAB_CHECKOUT),--nab $(NAB_CHECKOUT))

# Leave-one-family-out validation of the stream detector's configuration: the fold tables of
# docs/detection.md (seeded hill climb; about 10 minutes on one core). NAB_STEPS=0 scores the
# default configuration the same way; NAB_RULE is no-loss, pooled or maximin.
NAB_STEPS ?= 120
NAB_RULE ?= no-loss
nab-folds: check-shared
	nice -n 10 $(CARGO) run --release --quiet -p costwatch-analytics --example nab_score -- --folds $(COSTWATCH_SHARED)/data/nab --steps $(NAB_STEPS) --rule $(NAB_RULE)

clean:
	rm -rf $(OUT) .costwatch
