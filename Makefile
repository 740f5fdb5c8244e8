# Two commands do everything on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
# Django in development: links in e-mails, QR codes, calendars and Stripe's return links follow
# HOST and PORT (settings.py derives SITE_URL from them unless SITE_URL is given).
DEV_ENV = DEBUG=1 HOST=$(HOST) PORT=$(PORT)

.PHONY: run test e2e bench lint format venv demo checkers

venv: $(VENV)/.installed

$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

demo: venv
	$(DEV_ENV) $(PY) manage.py migrate --noinput
	$(DEV_ENV) $(PY) manage.py ensure_roles
	$(DEV_ENV) $(PY) manage.py load_demo
	$(DEV_ENV) $(PY) manage.py ensure_organiser
	$(DEV_ENV) $(PY) manage.py ensure_demo_speaker

# Without real Stripe keys, card payment goes to a local stand-in for Stripe on the next port:
# its payment page says that no money moves, and paying sends the signed webhook as Stripe does.
STRIPE_STANDIN_PORT ?= $(shell expr $(PORT) + 1)
ifeq ($(STRIPE_SECRET_KEY),)
STANDIN_ENV = STRIPE_SECRET_KEY=sk_test_standin STRIPE_WEBHOOK_SECRET=whsec_standin \
	STRIPE_API_BASE=http://127.0.0.1:$(STRIPE_STANDIN_PORT)
STANDIN_START = $(DEV_ENV) $(STANDIN_ENV) $(PY) manage.py run_stripe_standin --stop-with-parent & \
	standin=$$!;
endif

# The task worker (e-mail, periodic jobs) and the Stripe stand-in run beside the web server
# and stop with it.
run: demo
	@trap 'kill $$worker $$standin 2>/dev/null; wait $$worker $$standin 2>/dev/null' EXIT; \
	$(STANDIN_START) \
	$(DEV_ENV) $(STANDIN_ENV) $(PY) manage.py run_worker --stop-with-parent & worker=$$!; \
	$(DEV_ENV) $(STANDIN_ENV) $(PY) manage.py runserver $(HOST):$(PORT)

# Tests run on every core (pytest-xdist): the suite takes half the time on two cores, which keeps
# CI's two runs (SQLite, then PostgreSQL) within its time limit. PYTEST_WORKERS=0 runs in one process.
PYTEST_WORKERS ?= auto

test: venv checkers
	$(PY) -m pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

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
