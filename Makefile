# Notion Assistant — the two commands are `make run` and `make test`; everything they need is
# installed by the targets below (uv into .local/tools, Python packages into .venv, Kafka jars
# from Maven Central into .local/kafka). Nothing outside the repository is required but
# Python 3.11, Java 17+, Maven and Go (and, for `make test`, Debian's Chromium, installed
# with apt-get).

UV_VERSION := 0.13.9
TOOLS := .local/tools
NOTION_TYPES := services/notion_sync/tests/notion_types
UV := $(TOOLS)/bin/uv
STACK := $(UV) run --frozen python -m assistant_stack
PYTEST_ARGS ?= -q --durations=15

.DEFAULT_GOAL := help
.PHONY: help install run test check lint typecheck unit web web-test up down migrate admin logs status docs bench clean

help:
	@echo "make run        set everything up and run the whole system (Ctrl-C stops it)"
	@echo "make test       set everything up and run lint, type checks, unit and integration tests"
	@echo "make up|down    start or stop Kafka + PostgreSQL in the background (run profile)"
	@echo "make migrate    apply every service's migrations"
	@echo "make admin LOGIN=<username or email>   make an account an administrator"
	@echo "make logs       follow the services' logs of a running 'make run'"
	@echo "make docs       regenerate docs/asyncapi.yaml and docs/openapi.json"
	@echo "make web        build the web console (web/dist), served by the gateway at /"
	@echo "make bench      run the benchmarks (see docs/benchmarks.md)"

$(UV):
	@python3 -c 'import sys; assert sys.version_info[:2] == (3, 11), "Python 3.11 is required"' \
		|| (echo "error: python3 must be Python 3.11" >&2; exit 1)
	python3 -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

# FreeDict's Portuguese-English dictionaries, from Debian's archive (no root needed): search
# takes a Portuguese question's English words from them. Without apt, search goes on without.
DICTIONARY_PACKAGES := dict-freedict-por-eng dict-freedict-eng-por
DICTIONARIES := .local/dictd/usr/share/dictd/freedict-por-eng.index
$(DICTIONARIES):
	@mkdir -p .local/dictd
	@cd .local/dictd && { apt-get download -qq $(DICTIONARY_PACKAGES) 2>/dev/null \
		|| { $(SUDO) apt-get update -qq && apt-get download -qq $(DICTIONARY_PACKAGES); }; } \
		&& for deb in *.deb; do dpkg-deb -x $$deb .; done && rm -f *.deb \
		|| echo "note: no dictionaries: Portuguese questions are searched without English words"

install: $(UV) $(TOOLS)/bin/compose-config $(NOTION_TYPES)/node_modules/.package-lock.json $(DICTIONARIES)
	$(UV) sync --frozen --quiet

# Notion's official SDK types and the CommonMark spec, for notion_sync's request checks.
$(NOTION_TYPES)/node_modules/.package-lock.json: $(NOTION_TYPES)/package-lock.json
	npm ci --prefix $(NOTION_TYPES) --no-audit --no-fund --silent

# The web console: its packages from its lock file, built again only when web/ or the API
# document changed (its client's types are generated from docs/openapi.json).
WEB_SOURCES := $(shell find web/src -type f -not -name schema.d.ts 2>/dev/null) web/index.html \
	web/vite.config.ts web/tsconfig.json web/package.json docs/openapi.json
web/node_modules/.package-lock.json: web/package-lock.json
	npm ci --prefix web --no-audit --no-fund --silent

web/dist/index.html: web/node_modules/.package-lock.json $(WEB_SOURCES)
	npm run build --prefix web --silent

web: web/dist/index.html

web-test: web/node_modules/.package-lock.json
	npm test --prefix web --silent

# Browser tests drive Debian's Chromium (Playwright's own browser download is not reachable).
CHROMIUM := /usr/bin/chromium
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
$(CHROMIUM):
	$(SUDO) apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium

# docker-compose.yml rendered by the compose specification's own loader, for its tests.
$(TOOLS)/bin/compose-config: deploy/compose-config/main.go deploy/compose-config/go.mod
	cd deploy/compose-config && go build -o $(abspath $@) .

run: install web
	$(STACK) run --profile run

STACK_PROFILE ?= run
admin: install
	@test -n "$(LOGIN)" || (echo "usage: make admin LOGIN=<username or email>" >&2; exit 2)
	@eval "$$($(STACK) env --profile $(STACK_PROFILE))" && \
		$(UV) run --frozen python -m gateway_service make-admin "$(LOGIN)"

test: install $(CHROMIUM) check web web-test
	$(STACK) test --profile test -- $(PYTEST_ARGS)

check: lint typecheck

lint: install
	$(UV) run --frozen ruff check .
	$(UV) run --frozen ruff format --check .

typecheck: install
	$(UV) run --frozen mypy

unit: install
	$(UV) run --frozen pytest libs services deploy -m 'not stack' $(PYTEST_ARGS)

up: install
	$(STACK) up --profile run

down: install
	$(STACK) down --profile run

migrate: install
	$(STACK) migrate --profile run

status: install
	$(STACK) status --profile run

logs:
	@ls .local/run/logs/*.log >/dev/null 2>&1 || (echo "no logs yet: start the system with make run" >&2; exit 1)
	tail -n 50 -F .local/run/logs/*.log

docs: install
	$(UV) run --frozen python -m assistant_schemas.asyncapi docs/asyncapi.yaml
	$(UV) run --frozen python -m gateway_service.openapi docs/openapi.json

bench: install
	@command -v wrk >/dev/null || apt-get install -y -q wrk
	@test -x $(TOOLS)/bin/vegeta || GOBIN=$(abspath $(TOOLS))/bin go install github.com/tsenart/vegeta/v12@v12.13.0
	@test -x .local/litellm-venv/bin/litellm || ($(UV) venv -q -p 3.11 .local/litellm-venv && \
		VIRTUAL_ENV=.local/litellm-venv $(UV) pip install -q 'litellm[proxy]')
	$(STACK) up --profile bench --fresh  # results never depend on what earlier runs left
	eval "$$($(STACK) env --profile bench)" && \
		$(UV) run --frozen python -m bench.event_path && \
		$(UV) run --frozen python -m bench.request_reply && \
		$(UV) run --frozen python -m bench.gateway_admission && \
		$(UV) run --frozen python -m bench.hostile_input_overhead && \
		$(UV) run --frozen python -m bench.analytics_ingest && \
		$(UV) run --frozen python -m bench.generation_path && \
		$(UV) run --frozen python -m bench.notion_conversion && \
		$(UV) run --frozen python -m bench.notion_pages && \
		$(UV) run --frozen python -m bench.ingestion_throughput && \
		$(UV) run --frozen python -m bench.search_latency && \
		$(UV) run --frozen python -m bench.retrieval_eval; \
		status=$$?; $(STACK) down --profile bench; exit $$status

clean:
	-$(STACK) down --profile run
	-$(STACK) down --profile test
	rm -rf .local/run .local/test .local/bench
