# Two commands do everything on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test e2e bench lint format venv demo checkers

venv: $(VENV)/.installed

$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

demo: venv
	DEBUG=1 $(PY) manage.py migrate --noinput
	DEBUG=1 $(PY) manage.py ensure_roles
	DEBUG=1 $(PY) manage.py load_demo
	DEBUG=1 $(PY) manage.py ensure_organiser
	DEBUG=1 $(PY) manage.py ensure_demo_speaker

run: demo
	DEBUG=1 $(PY) manage.py runserver $(HOST):$(PORT)

test: venv checkers
	$(PY) -m pytest $(PYTEST_ARGS)

e2e: venv checkers
	$(PY) -m pytest -m browser $(PYTEST_ARGS)

# Not part of `make test`: needs PostgreSQL and Redis running (see bench/README.md). wrk comes
# from Debian's packages when we may install it; without it a Python load generator is used.
bench: venv
	@command -v wrk >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 \
	  && { apt-get install -y -q wrk >/dev/null 2>&1 \
	       || { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q wrk >/dev/null 2>&1; }; }; } \
	  || echo "wrk is not installed: using the Python load generator"
	$(PY) bench/run.py

# The browser suite's HTML checker (vnu-jar) and axe-core, pinned in package-lock.json.
# Without npm the tests that need them are skipped with the reason.
checkers: node_modules/.installed

node_modules/.installed: package.json package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
	  npm ci --silent --ignore-scripts --no-audit --no-fund && touch $@ \
	    || echo "npm ci failed: HTML and accessibility checks will be skipped"; \
	else echo "npm not found: HTML and accessibility checks will be skipped"; fi

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: venv
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .
