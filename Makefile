# contactcentre: `make run` starts the whole system on the embedded default, `make test` proves it.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test install migrate demo lint audit bench clean prod prod-stop prod-status

$(VENV)/.installed: pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet -e ".[dev]"
	@touch $@

install: $(VENV)/.installed

migrate: install
	$(PY) manage.py migrate --noinput

demo: migrate
	$(PY) manage.py load_demo

## run: install, migrate, load demo data, start everything on http://$(HOST):$(PORT)
run: demo
	$(PY) manage.py serve --host $(HOST) --port $(PORT)

## test: the whole suite; uses DATABASE_URL/REDIS_URL when set (and fails if they are unreachable).
## Without DATABASE_URL: the suite on SQLite with the postgres_only tests deselected, then those
## on a private PostgreSQL (scripts/private-postgres.sh); fails if either run fails.
## PYTEST_ARGS narrows both runs (a run that then selects nothing is not a failure); an
## interrupted first run (pytest's exit 2, Ctrl-C) ends the target there.
PYTEST_ARGS ?=
test: install
	@bash scripts/ensure-test-deps.sh
	@if [ -n "$$DATABASE_URL" ]; then \
		echo "$(PY) -m pytest $(PYTEST_ARGS)"; \
		exec $(PY) -m pytest $(PYTEST_ARGS); \
	fi; \
	ok() { [ $$1 -eq 0 ] || { [ $$1 -eq 5 ] && [ -n "$(strip $(PYTEST_ARGS))" ]; }; }; \
	echo "== SQLite; the postgres_only tests are deselected here and run next on a private PostgreSQL"; \
	echo "$(PY) -m pytest -m 'not postgres_only' $(PYTEST_ARGS)"; \
	sqlite=0; $(PY) -m pytest -m 'not postgres_only' $(PYTEST_ARGS) || sqlite=$$?; \
	[ $$sqlite -ne 2 ] || exit 2; \
	echo "== PostgreSQL (private cluster): the postgres_only tests"; \
	echo "bash scripts/private-postgres.sh run $(PY) -m pytest -m postgres_only $(PYTEST_ARGS)"; \
	pg=0; bash scripts/private-postgres.sh run $(PY) -m pytest -m postgres_only $(PYTEST_ARGS) || pg=$$?; \
	ok $$sqlite || echo "make test: the SQLite run failed (pytest exit $$sqlite)"; \
	ok $$pg || echo "make test: the PostgreSQL run failed (pytest exit $$pg)"; \
	ok $$sqlite && ok $$pg

## prod: the production topology as local processes (needs DATABASE_URL and REDIS_URL)
prod: install
	bash scripts/prod.sh start

prod-stop:
	bash scripts/prod.sh stop

prod-status:
	bash scripts/prod.sh status

lint: install
	$(VENV)/bin/ruff check .

## bench: every benchmark in sequence, each printing its figures (needs PostgreSQL and Redis on
## localhost, or BENCH_DATABASE_HOST etc. as each script documents). BENCH_QUICK=1 for a smoke run.
BENCH_FLAG := $(if $(BENCH_QUICK),--quick,)
$(VENV)/.bench-installed: $(VENV)/.installed
	$(PY) -m pip install --quiet -e ".[dev,bench]"
	@touch $@

bench: $(VENV)/.bench-installed
	@mkdir -p var/bench
	set -o pipefail; $(PY) bench/bench_routing.py | tee var/bench/routing.txt
	set -o pipefail; $(PY) bench/bench_intake.py $(BENCH_FLAG) | tee var/bench/intake.txt
	set -o pipefail; $(PY) bench/bench_fanout.py $(BENCH_FLAG) | tee var/bench/fanout.txt
	set -o pipefail; $(PY) bench/bench_memory.py $(BENCH_FLAG) | tee var/bench/memory.txt
	set -o pipefail; $(PY) bench/bench_growth.py $(BENCH_FLAG) | tee var/bench/growth.txt

## audit: known vulnerabilities in the installed packages (needs a network that reaches pypi.org)
audit: install
	$(VENV)/bin/pip-audit --strict --progress-spinner off

clean:
	rm -rf var/ .pytest_cache
