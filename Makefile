# Two commands matter on a fresh machine: `make demo` and `make test`. Both set up .venv on first use.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
STACK ?= Jubilee

.PHONY: demo test test-slow serve synth deploy bootstrap bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/jubilee demo

test: $(STAMP)
	$(BIN)/python -m pytest -n 2 --dist loadfile -q

# The full-size runs (a 100,000-account portfolio through the emulator): minutes, not seconds.
test-slow: $(STAMP)
	$(BIN)/python -m pytest -q -m slow

serve: $(STAMP)
	$(BIN)/jubilee serve

# Writes cdk.out/ (the template and the functions' asset); needs Node.js for jsii, not the CDK CLI.
synth: $(STAMP)
	$(BIN)/python -m infra.app
	@echo "cdk.out/$(STACK).template.json written; cdk-nag passed"

node_modules/.stamp: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

# Uses your AWS credentials (AWS_PROFILE or the usual environment variables).
bootstrap: $(STAMP) node_modules/.stamp
	PATH="$(CURDIR)/$(BIN):$$PATH" npx cdk bootstrap

deploy: $(STAMP) node_modules/.stamp
	PATH="$(CURDIR)/$(BIN):$$PATH" npx cdk deploy $(STACK) --require-approval broadening $(CDK_ARGS)

bench: $(STAMP)
	$(BIN)/python -m bench.run

clean:
	rm -rf $(VENV) cdk.out node_modules .pytest_cache jubilee.egg-info
