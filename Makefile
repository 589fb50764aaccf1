# Agora: `make run` starts the platform, `make test` runs every test. Both install what they need.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# make run's development settings; each can be set in the environment instead.
GATEWAY_PORT ?= 8000
WEB_PORT ?= 8080
SMTP_PORT ?= 1025
DEV_MAIL_DIR ?= $(CURDIR)/$(VENV)/devmail
DEMO_CITY ?= demo
export PYTHONWARNINGS ?= ignore
export PYTHONUNBUFFERED := 1

.PHONY: help install web-browser run demo test test-unit test-integration test-e2e test-web web-messages bench bench-pages chaos docs migrate up down clean

help:
	@echo "make run      install, check RabbitMQ and PostgreSQL, migrate, start every service, the gateway on :8000,"
	@echo "              the web site on :8080 and a development mail server (Procfile; Ctrl-C stops everything)"
	@echo "make demo     fill the demo city of a running platform (then open http://127.0.0.1:8080/demo/)"
	@echo "make test     install and run unit, integration and end-to-end tests"
	@echo "make bench    run the benchmarks (results in bench/results/)"
	@echo "make chaos    the fault tests: killed services, broker restart, database outage"
	@echo "make docs     regenerate docs/events.md from the event schemas"
	@echo "make up/down  the whole stack with docker compose"

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip "setuptools<81" wheel
	$(BIN)/pip install --quiet -e '.[web,test,dev]'
	@touch $(STAMP)

WEB_STAMP := web/node_modules/.installed
WEB_LOCALES := en nl fr

# The web site's front-end libraries (npm, from web/package-lock.json) and Debian's Chromium for its tests.
$(WEB_STAMP): web/package.json web/package-lock.json
	cd web && npm ci --no-audit --no-fund
	@touch $(WEB_STAMP)

web-browser:
	@test -x /usr/bin/chromium || (apt-get update && apt-get install -y chromium)

install: $(STAMP) $(WEB_STAMP)

# Interface strings of the web site: extract them and update every catalogue (then translate the new ones).
web-messages: install
	$(BIN)/pybabel extract -F web/babel.cfg -k _l -k lazy_gettext -o web/i18n/messages.pot --no-location \
		--sort-output --omit-header --project=agora-web .
	@for l in $(WEB_LOCALES); do \
		if [ -f web/i18n/$$l/LC_MESSAGES/messages.po ]; then \
			$(BIN)/pybabel update -i web/i18n/messages.pot -d web/i18n -l $$l --omit-header --no-fuzzy-matching; \
		else $(BIN)/pybabel init -i web/i18n/messages.pot -d web/i18n -l $$l; fi; done

migrate: install
	$(BIN)/python scripts/ensure_infra.py
	$(BIN)/python -m services.common.migrate

# One process per service as in production, the gateway, the web site, and in development a mail server
# that keeps every e-mail for the site's /_dev/mail page (Procfile). honcho stops them all on Ctrl-C or SIGTERM.
run: migrate
	@echo "Starting the services, the gateway (:$(GATEWAY_PORT)), the web site (:$(WEB_PORT)) and the mail server" \
		"(:$(SMTP_PORT)); the addresses follow once they answer. Ctrl-C stops everything."
	PATH="$(CURDIR)/$(BIN):$$PATH" GATEWAY_PORT=$(GATEWAY_PORT) WEB_PORT=$(WEB_PORT) \
		GATEWAY_URL="$${GATEWAY_URL:-http://127.0.0.1:$(GATEWAY_PORT)}" WEB_CITIES="$${WEB_CITIES:-$(DEMO_CITY)}" \
		SMTP_HOST=127.0.0.1 SMTP_PORT=$(SMTP_PORT) DEV_MAIL_DIR="$(DEV_MAIL_DIR)" DEMO_CITY=$(DEMO_CITY) \
		exec $(BIN)/honcho start --procfile Procfile

demo: install
	$(BIN)/python scripts/demo.py

test: install web-browser
	$(BIN)/python scripts/ensure_infra.py
	$(BIN)/pytest -q tests/unit tests/integration tests/e2e tests/fault
	AGORA_TESTS_GREEN=0 $(BIN)/pytest -q tests/web

chaos: install
	$(BIN)/python scripts/ensure_infra.py
	$(BIN)/pytest -q tests/fault

test-unit: install
	$(BIN)/pytest -q tests/unit

test-integration: install
	$(BIN)/pytest -q tests/integration

test-e2e: install
	$(BIN)/pytest -q tests/e2e

test-web: install web-browser
	$(BIN)/python scripts/ensure_infra.py
	AGORA_TESTS_GREEN=0 $(BIN)/pytest -q tests/web

bench: install
	-bash scripts/install-bench-tools.sh
	$(BIN)/python scripts/ensure_infra.py
	$(BIN)/python bench/run_all.py

# The web pages' server time with 100,000 ideas in a project (bench/bench_pages.py).
bench-pages: install
	$(BIN)/python scripts/ensure_infra.py
	$(BIN)/python bench/run_all.py pages

docs: install
	$(BIN)/python -m services.common.eventdocs

up:
	docker compose up -d --build

down:
	docker compose down

clean:
	rm -rf $(VENV) *.egg-info
