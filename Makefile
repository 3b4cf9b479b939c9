# The README's two commands: `make run` and `make test`. Each builds only what is missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
HOST ?= 127.0.0.1
WEB_CONCURRENCY ?= 2
PYTEST_ARGS ?=

STATIC_SOURCES := $(shell find static -type f 2>/dev/null)

.PHONY: run test lint format check clean bench help
.DEFAULT_GOAL := help

help:
	@echo "make run    serve the explorer with the article's data at http://$(HOST):$(PORT)/"
	@echo "make test   run the whole test suite (SQLite; PostgreSQL when DATABASE_URL is set)"
	@echo "make lint   ruff check and format check"
	@echo "make bench  run the benchmarks in bench/"
	@echo "make clean  remove the virtual environment, the local database and collected static files"

# The virtual environment, with runtime and test dependencies pinned by constraints.txt.
# The stamp is rebuilt only when the dependency lists change.
$(VENV)/.installed: pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	# The FollowTheMoney export's extra builds PyICU: only where ICU's headers are found.
	if pkg-config --exists icu-uc 2>/dev/null; then \
		$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev,ftm]'; \
	else \
		echo "ICU not found (pkg-config icu-uc): the FollowTheMoney export stays off."; \
	fi
	touch $@

# A secret key for this checkout only; production passes its own (see README).
var/secret_key:
	mkdir -p var
	$(PYTHON) -c 'import secrets; print(secrets.token_urlsafe(50))' > $@
	chmod 600 $@

staticfiles/staticfiles.json: $(STATIC_SOURCES) $(VENV)/.installed | var/secret_key
	$(BIN)/python manage.py collectstatic --noinput --clear -v0

run: $(VENV)/.installed staticfiles/staticfiles.json | var/secret_key
	PATH="$(CURDIR)/$(BIN):$$PATH" LOAD_ARTICLE=1 BIND=$(HOST) PORT=$(PORT) \
		WEB_CONCURRENCY=$(WEB_CONCURRENCY) bin/start

test: $(VENV)/.installed staticfiles/staticfiles.json | var/secret_key
	$(BIN)/pytest $(PYTEST_ARGS)

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(VENV)/.installed
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: $(VENV)/.installed staticfiles/staticfiles.json | var/secret_key
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) var staticfiles test-artifacts .pytest_cache
