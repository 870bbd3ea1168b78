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

clean:
	rm -rf $(VENV) .e2e-venv .aws-sam build *.egg-info
