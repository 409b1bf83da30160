# Two commands on a fresh machine with Python 3.11+: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint format typecheck openapi check clean-data assets screenshots

ASSETS := index_service/web/static/.built

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

# GOV.UK Frontend's assets from the npm registry (package-lock.json pins them), served by
# the app under /assets; the test-only OpenID provider and axe-core come with them.
node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

$(ASSETS): node_modules/.package-lock.json
	rm -rf index_service/web/static
	mkdir -p index_service/web/static
	cp -R node_modules/govuk-frontend/dist/govuk/assets/. index_service/web/static/
	cp node_modules/govuk-frontend/dist/govuk/govuk-frontend.min.css \
	   node_modules/govuk-frontend/dist/govuk/govuk-frontend.min.js index_service/web/static/
	touch $@

assets: $(ASSETS)


# `run` ends by exec-ing one supervisor (`index-service run`: `serve --workers` and the
# alert worker): make passes SIGTERM to its own child only, so that child must be it.
run: $(STAMP) $(ASSETS)
	$(BIN)/index-service migrate
	$(BIN)/index-service seed-demo --once
	@echo ""
	@echo "The web app: http://127.0.0.1:$${PORT:-8000}/ (sign in as a demo persona); the API's docs: /docs."
	@echo "A first request, from another terminal (README.md, Quick start, has more):"
	@echo "  TOKEN=\$$($(BIN)/index-service token --sub demo-data-manager --name 'Dana Manager' --org DEMO-EAL-01 --role data_manager)"
	@echo "  curl -i -H \"Authorization: Bearer \$$TOKEN\" http://127.0.0.1:$${PORT:-8000}/v1/alerts"
	@echo ""
	@echo "The alert worker (outbox deliveries, escalations) runs beside the server processes;"
	@echo "Ctrl-C, or kill of this make, stops them all (and the embedded PostgreSQL)."
	exec $(BIN)/index-service run

test: $(STAMP) $(ASSETS)
	$(BIN)/pytest

# Each page at 1280px and 375px wide, into screenshots/ (git-ignored).
screenshots: $(STAMP) $(ASSETS)
	SCREENSHOTS=1 $(BIN)/pytest -q tests/web/test_screenshots.py

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

typecheck: $(STAMP)
	$(BIN)/mypy --strict index_service

openapi: $(STAMP)
	$(BIN)/index-service openapi

check: lint typecheck
	$(BIN)/index-service openapi --check

clean-data:
	rm -rf .data
