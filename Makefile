# flowplane — every target sets itself up on a fresh machine (only PyPI is needed).
PY      ?= python3
VENV    ?= .venv
BIN     := $(VENV)/bin
HOST    ?= 127.0.0.1
PORT    ?= 4200
STAMP   := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
PYTEST_ARGS ?=

.PHONY: install serve test lint e2e bench template clean

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

clean:
	rm -rf $(VENV) .e2e-venv .aws-sam build *.egg-info
