# Two commands matter on a fresh machine: `make demo` and `make test`. Both set up .venv on first use.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
STACK ?= Jubilee

.PHONY: demo test lint test-slow serve synth deploy bootstrap bench clean browser

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/jubilee demo --report demo-report/index.html

# The browser tests drive Debian's Chromium (/usr/bin/chromium). Installed here when missing and
# this user may (root, or sudo without a password); otherwise those tests say how and are skipped,
# unless JUBILEE_REQUIRE_BROWSER=1 (as in CI) makes a missing browser a failure.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then SUDO=""; elif sudo -n true 2>/dev/null; then SUDO="sudo -n"; else \
	    echo "make browser: Chromium is not installed and this user cannot install it (apt-get install chromium)"; exit 0; fi; \
	  echo "make browser: installing Debian's chromium for the browser tests"; \
	  export DEBIAN_FRONTEND=noninteractive; \
	  $$SUDO apt-get install -y -q --no-install-recommends chromium >/dev/null 2>&1 || \
	  { $$SUDO apt-get update -q >/dev/null && $$SUDO apt-get install -y -q --no-install-recommends chromium >/dev/null; }; }

# node_modules: axe-core, which the browser tests run on every page (and the pinned CDK CLI, for deploy).
# Bytecode is cached (__pycache__, git-ignored) even where the environment sets PYTHONDONTWRITEBYTECODE: the suite
# starts many interpreters (two workers, each `jubilee serve`), and each would compile our modules again.
test: $(STAMP) browser node_modules/.stamp
	PYTHONDONTWRITEBYTECODE= $(BIN)/python -m pytest -n 2 --dist loadfile -q

# ruff (E,F,I,B,UP) over the tree and mypy (pydantic plugin, check_untyped_defs) over functions/, infra/, ops/ and local/:
# both at zero findings; settings in pyproject.toml.
lint: $(STAMP)
	$(BIN)/ruff check functions infra ops local tests bench
	$(BIN)/mypy

# The full-size runs (a 100,000-account portfolio through the emulator): minutes, not seconds.
test-slow: $(STAMP)
	$(BIN)/python -m pytest -q -m slow -n 2 --dist loadfile

serve: $(STAMP)
	$(BIN)/jubilee serve

# How donors pay in the deployed stack, chosen at every synth and deploy: PAYMENTS=stripe or PAYMENTS=sandbox.
CONTEXT = $(if $(PAYMENTS),-c payments=$(PAYMENTS))

# Writes cdk.out/ (the template and the functions' asset); needs Node.js for jsii, not the CDK CLI.
synth: $(STAMP)
	CDK_CONTEXT_JSON='{"payments": "$(PAYMENTS)"}' $(BIN)/python -m infra.app
	@echo "cdk.out/$(STACK).template.json written; cdk-nag passed"

node_modules/.stamp: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

# Uses your AWS credentials (AWS_PROFILE or the usual environment variables).
bootstrap: $(STAMP) node_modules/.stamp
	PATH="$(CURDIR)/$(BIN):$$PATH" npx cdk bootstrap

deploy: $(STAMP) node_modules/.stamp
	PATH="$(CURDIR)/$(BIN):$$PATH" npx cdk deploy $(STACK) --require-approval broadening $(CONTEXT) $(CDK_ARGS)

bench: $(STAMP)
	$(BIN)/python -m bench.run

clean:
	rm -rf $(VENV) cdk.out node_modules .pytest_cache jubilee.egg-info
