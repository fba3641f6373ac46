# The newcomer's commands: `make run`, `make test` and `make lint` (see README.md).
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
PYTEST_ARGS ?=

.PHONY: install run test lint bench clean serve-prod load

install: $(VENV)/.installed

$(VENV)/.installed: requirements.txt $(wildcard package-lock.json)
	test -x $(PY) || python3 -m venv $(VENV)
	$(PIP) install -q --disable-pip-version-check -r requirements.txt
	if [ -f package-lock.json ]; then npm ci --no-audit --no-fund --loglevel=error; fi
	touch $@

run: install
	./scripts/run.sh

test: install
	./scripts/services.sh
	./scripts/test-deps.sh
	$(PY) -m pytest -q $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .

bench: install
	$(PY) bench/run_all.py

serve-prod: install
	./scripts/serve-prod.sh

load: install
	./scripts/load.sh

clean:
	rm -rf $(VENV) var node_modules
