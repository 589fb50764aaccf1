# Agora: `make run` starts the platform, `make test` runs every test. Both install what they need.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SERVICES := accounts ideas voting gamification budgeting notifications analytics
MODULES = $(foreach s,$(SERVICES),$(if $(wildcard services/$(s)/service.py),services.$(s).service)) gateway.service
export PYTHONWARNINGS ?= ignore
export PYTHONUNBUFFERED := 1

.PHONY: help install web-browser run demo test test-unit test-integration test-e2e test-web web-messages bench chaos docs migrate up down clean

help:
	@echo "make run      install, check RabbitMQ and PostgreSQL, migrate, start every service and the gateway on :8000"
	@echo "make demo     load a demo city into a running platform"
	@echo "make test     install and run unit, integration and end-to-end tests"
	@echo "make bench    run the benchmarks (results in bench/results/)"
	@echo "make chaos    the fault tests: killed services, broker restart, database outage"
	@echo "make docs     regenerate docs/events.md from the event schemas"
	@echo "make up/down  the whole stack with docker compose"

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip "setuptools<81" wheel
	$(BIN)/pip install --quiet -e '.[web,test]'
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
			$(BIN)/pybabel update -i web/i18n/messages.pot -d web/i18n -l $$l --no-location --omit-header --no-fuzzy-matching; \
		else $(BIN)/pybabel init -i web/i18n/messages.pot -d web/i18n -l $$l; fi; done

migrate: install
	$(BIN)/python scripts/ensure_infra.py
	$(BIN)/python -m services.common.migrate

run: migrate
	@echo "Starting $(MODULES) (gateway on :$${GATEWAY_PORT:-8000}); Ctrl-C stops everything."
	exec $(BIN)/nameko run --config config.yaml $(MODULES)

demo: install
	$(BIN)/python scripts/demo.py

test: install web-browser
	$(BIN)/python scripts/ensure_infra.py
	$(BIN)/pytest -q tests/unit tests/integration tests/e2e tests/fault tests/web

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
	$(BIN)/pytest -q tests/web

bench: install
	-bash scripts/install-bench-tools.sh
	$(BIN)/python scripts/ensure_infra.py
	$(BIN)/python bench/run_all.py

docs: install
	$(BIN)/python -m services.common.eventdocs

up:
	docker compose up -d --build

down:
	docker compose down

clean:
	rm -rf $(VENV) *.egg-info
