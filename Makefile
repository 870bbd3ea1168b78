# flowplane — every target sets itself up on a fresh machine (only PyPI is needed).
PY      ?= python3
VENV    ?= .venv
BIN     := $(VENV)/bin
HOST    ?= 127.0.0.1
PORT    ?= 4200
STAMP   := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
PYTEST_ARGS ?=

.PHONY: install serve test lint e2e bench template sam-build clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	@rm -f $(VENV)/.installed-* && touch $@

install: $(STAMP)

## make serve — the local API on http://$(HOST):$(PORT)/api (embedded DynamoDB, scheduler loop)
serve: install
	HOST=$(HOST) PORT=$(PORT) $(BIN)/flowplane serve --host $(HOST) --port $(PORT)

## make test — lint, layer contract, template checks and every test ring
test: install lint
	$(BIN)/python -m infra.sam --check
	$(BIN)/python -m pytest -n 2 $(PYTEST_ARGS)

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

e2e: install $(E2E_STAMP)
	$(E2E_BIN)/python -m pytest -c tests/e2e/pytest.ini --rootdir tests/e2e --confcutdir tests/e2e \
		-p no:cacheprovider tests/e2e $(E2E_ARGS)

## make bench — benchmarks, not tests (bench/README.md). BENCH_ARGS passes options, e.g. --runs 3 --only Flows
BENCH_ARGS ?=
bench: install
	$(BIN)/python bench/cold_start.py $(BENCH_ARGS)

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
