# flowplane — every target sets itself up on a fresh machine (only PyPI is needed).
PY      ?= python3
VENV    ?= .venv
BIN     := $(VENV)/bin
HOST    ?= 127.0.0.1
PORT    ?= 4200
STAMP   := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
PYTEST_ARGS ?=

.PHONY: install serve test fuzz lint e2e e2e-moto e2e-ui bench bench-runs template sam-build clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	@rm -f $(VENV)/.installed-* && touch $@

install: $(STAMP)

## make serve — the local API on http://$(HOST):$(PORT)/api (data in SQLite under ~/.flowplane, scheduler loop)
serve: install
	HOST=$(HOST) PORT=$(PORT) $(BIN)/flowplane serve --host $(HOST) --port $(PORT)

## make test — lint, layer contract, template checks and every test ring
test: install lint
	$(BIN)/python -m infra.sam --check
	$(BIN)/python -m pytest -n 2 $(PYTEST_ARGS)

## make fuzz — schemathesis over the reference's OpenAPI document against every route (tests/fuzz): the
## coverage phase and FUZZ_EXAMPLES generated requests per operation (> 10 000 requests); prints the
## request count by status and every failing operation with a reproducer. `make test` runs a small budget.
FUZZ_EXAMPLES ?= 40
fuzz: install
	FLOWPLANE_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) FLOWPLANE_FUZZ_PHASES=examples,coverage,fuzzing \
		$(BIN)/python -m pytest -n 2 tests/fuzz $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/lint-imports

## regenerate template.yaml from the route table and table specs
template: install
	$(BIN)/python -m infra.sam

## make e2e — the real Prefect 2.20 client and CLI against a live `flowplane serve` (tests/e2e)
E2E_VENV  ?= .e2e-venv
E2E_BIN   := $(E2E_VENV)/bin
E2E_REQS  := tests/e2e/requirements.txt
E2E_STAMP := $(E2E_VENV)/.installed-$(shell cat $(E2E_REQS) 2>/dev/null | cksum | cut -d' ' -f1)
E2E_ARGS  ?=

$(E2E_STAMP): $(E2E_REQS)
	@test -x $(E2E_BIN)/python || $(PY) -m venv $(E2E_VENV)
	$(E2E_BIN)/python -m pip install -q --upgrade pip
	$(E2E_BIN)/python -m pip install -q -r $(E2E_REQS)
	$(E2E_BIN)/python -c "import prefect, sys; v = prefect.__version__; print('e2e venv: prefect', v); sys.exit(v != '2.20.26')"
	@rm -f $(E2E_VENV)/.installed-* && touch $@

# paths under tests/e2e/ in E2E_ARGS replace the default `tests/e2e` (e.g. E2E_ARGS="tests/e2e/test_runs_serve.py -x")
E2E_PATHS = $(or $(filter tests/e2e/%,$(E2E_ARGS)),tests/e2e)
e2e: install $(E2E_STAMP)
	$(E2E_BIN)/python -m pytest -c tests/e2e/pytest.ini --rootdir tests/e2e --confcutdir tests/e2e \
		-p no:cacheprovider $(E2E_PATHS) $(filter-out tests/e2e/%,$(E2E_ARGS))

## make e2e-moto — the foundation and deployments suites once more, on `flowplane serve --store moto`
## (the DynamoDB adapter on the embedded moto server); `make e2e` runs everything on the SQLite default
E2E_MOTO_TESTS ?= tests/e2e/test_foundation.py tests/e2e/test_deployments.py
e2e-moto: install $(E2E_STAMP)
	FLOWPLANE_E2E_STORE=moto $(E2E_BIN)/python -m pytest -c tests/e2e/pytest.ini --rootdir tests/e2e \
		--confcutdir tests/e2e -p no:cacheprovider $(E2E_MOTO_TESTS) $(E2E_ARGS)

## make e2e-ui — the Prefect 2.20 UI in headless Chromium (Debian's, installed when missing) over its 11
## pages against a seeded `flowplane serve`, same origin and cross-origin (tests/e2e_ui; ~3 min).
## Screenshots and the server log: $$FLOWPLANE_E2E_UI_OUT (default: a printed temporary directory).
E2E_UI_REQS  := tests/e2e_ui/requirements.txt
E2E_UI_STAMP := $(E2E_VENV)/.installed-ui-$(shell cat $(E2E_UI_REQS) 2>/dev/null | cksum | cut -d' ' -f1)
E2E_UI_ARGS  ?=

$(E2E_UI_STAMP): $(E2E_UI_REQS) $(E2E_STAMP)
	$(E2E_BIN)/python -m pip install -q -r $(E2E_UI_REQS)
	@rm -f $(E2E_VENV)/.installed-ui-* && touch $@

e2e-ui: install $(E2E_STAMP) $(E2E_UI_STAMP)
	@command -v chromium >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }
	$(E2E_BIN)/python -m pytest -c tests/e2e_ui/pytest.ini --rootdir tests/e2e_ui --confcutdir tests/e2e_ui \
		-p no:cacheprovider tests/e2e_ui $(E2E_UI_ARGS)

## make bench — benchmarks, not tests (bench/README.md). BENCH_ARGS passes options, e.g. --runs 3 --only Flows
BENCH_ARGS ?=
bench: install
	$(BIN)/python bench/cold_start.py $(BENCH_ARGS)

## make bench-runs — the run hot paths (set_state, logs, worker poll) vs the reference in one run, and
## DynamoDB requests per call on moto (bench/run_paths.py, ~1 min; needs .e2e-venv: `make e2e` once)
bench-runs: install
	$(BIN)/python bench/run_paths.py $(BENCH_ARGS)

## make diff-ref — the differential check (bench/diffref.py): seeded random operation sequences against a
## fresh `prefect server start` and a fresh `flowplane serve`, answers compared after id/time normalisation;
## differences grouped by route with reproducers (~1 min; needs .e2e-venv: `make e2e` once; not in CI).
## DIFF_ARGS passes options, e.g. DIFF_ARGS="--seeds 1,2,3,4,5,6 --ops 600"
DIFF_ARGS ?=
diff-ref: install
	$(BIN)/python bench/diffref.py $(DIFF_ARGS)

## make sam-build — `sam build` without Docker, then bytecode (README "Deploy with SAM"). Needs python3.12
## (the functions' runtime) for `sam build`; the SAM CLI is installed into .sam-venv from PyPI.
SAM_VENV ?= .sam-venv
PY312    ?= python3.12
sam-build: install
	@command -v $(PY312) >/dev/null || { echo "sam build needs $(PY312) (the functions' runtime): set PY312=/path/to/python3.12"; exit 1; }
	@test -x $(SAM_VENV)/bin/sam || { $(PY) -m venv $(SAM_VENV) && $(SAM_VENV)/bin/python -m pip install -q aws-sam-cli; }
	$(BIN)/python -m infra.sam --check
	PATH="$$(dirname $$(command -v $(PY312))):$$PATH" SAM_CLI_TELEMETRY=0 $(SAM_VENV)/bin/sam build --parallel
	$(BIN)/python -m infra.package .aws-sam/build --python $(PY312)

clean:
	rm -rf $(VENV) .e2e-venv .sam-venv .aws-sam build *.egg-info
