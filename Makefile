# Two commands on a fresh clone: `make run` (the product on embedded defaults) and
# `make test` (lint and types of the Python and the JavaScript, the JavaScript tests, then the
# Python suite). Both install what they need: a Python venv in .venv and the npm packages in
# web/node_modules.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PY_DEPS   := $(VENV)/.installed
NODE_DEPS := web/node_modules/.installed
BUNDLES   := web/static/dist/.built
JS_SOURCES := $(shell find web/js -name '*.js' 2>/dev/null) web/build.mjs

.PHONY: run test lint typecheck check-js test-js test-py build clean screenshots

run: $(PY_DEPS) $(BUNDLES)
	$(BIN)/cipherslip dev

test: lint typecheck check-js test-js test-py

lint: $(PY_DEPS)
	$(BIN)/ruff check .

typecheck: $(PY_DEPS)
	$(BIN)/mypy

# The browser code's JSDoc types (tsc --checkJs, strict) and eslint.
check-js: $(NODE_DEPS)
	cd web && npm run --silent check

test-js: $(NODE_DEPS)
	cd web && npm test --silent

# One worker process per core: the stack under test runs in the test's process, so one
# process would use one core. PYTEST_ARGS="-n 0" runs it in one process.
test-py: $(PY_DEPS) $(BUNDLES)
	$(BIN)/pytest -n auto --dist worksteal $(PYTEST_ARGS)

build: $(BUNDLES)

# The README's pictures, from the running product (needs Chromium).
screenshots: $(PY_DEPS) $(BUNDLES)
	$(BIN)/python -m scripts.screenshots

$(PY_DEPS): pyproject.toml client/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	# ./client first: the `slip` CLI, a package of its own, which also ships the formats
	# (cipherslip_crypto) the server depends on.
	$(BIN)/pip install --quiet -e ./client
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

$(NODE_DEPS): web/package.json web/package-lock.json
	cd web && npm ci --no-audit --no-fund --loglevel=error
	touch $@

$(BUNDLES): $(NODE_DEPS) $(JS_SOURCES)
	cd web && node build.mjs
	touch $@

clean:
	rm -rf $(VENV) web/node_modules web/static/dist .pytest_cache .mypy_cache .ruff_cache
