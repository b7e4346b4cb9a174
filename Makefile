# The two commands a newcomer needs: `make run` and `make test`. Each builds .venv when it
# is missing or older than the requirements files.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
# Links the server and its worker email (set-password links) start with this address.
PUBLIC_URL ?= http://$(HOST):$(PORT)

.PHONY: run worker test jstest lint format migrate seed retrain bench clean-venv

$(VENV)/.installed: requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

migrate: $(VENV)/.installed
	$(PY) manage.py migrate --noinput

# Demo users, exams and baselines, then past sessions with events and a population model
# trained on them, so the admin, the dashboard and the scorer have something to show. The model is
# trained once (each training saves a new version under var/models): `make retrain` trains a new one.
seed: migrate
	$(PY) manage.py seed_demo
	$(PY) manage.py seed_demo_activity
	$(PY) manage.py train_risk_model --if-missing

# A new version of the population model from the sessions stored now (`make retrain run` to serve it).
retrain: migrate
	$(PY) manage.py train_risk_model

# Development server with demo data on the embedded defaults (SQLite, in-memory layer), and the
# notifications' worker (webhooks, alert emails) beside it: started first, stopped when daphne exits.
run: seed
	$(PY) manage.py collectstatic --noinput --verbosity 0
	export PUBLIC_URL="$(PUBLIC_URL)"; \
	$(PY) manage.py db_worker --interval 1 --no-reload & worker=$$!; \
	trap 'kill $$worker 2>/dev/null; wait $$worker 2>/dev/null' EXIT INT TERM; \
	EXAMPULSE_DEMO=$${EXAMPULSE_DEMO:-true} $(PY) -m daphne -b $(HOST) -p $(PORT) exampulse.asgi:application

# The notifications' worker alone (another terminal, or one per extra machine).
worker: migrate
	$(PY) manage.py db_worker --interval 1 --no-reload

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

format: $(VENV)/.installed
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

# The browser client's unit tests: Node's built-in runner, no packages. A missing `node` fails here.
jstest:
	node --test tests/js/*.test.cjs

# pytest-xdist: one worker per core, each on its own test database (test_<name>_gw0, ...) and Redis
# key prefix (tests/conftest.py); tests marked xdist_group(name) share a worker. The ten slowest
# tests are printed at the end. PYTEST_WORKERS=0 runs in one process.
PYTEST_WORKERS ?= auto

test: lint jstest
	$(PY) manage.py makemigrations --check --dry-run
	# Connections opened in sync_to_async threads must not outlive a test, or the test database cannot be dropped.
	# Bytecode is cached even where PYTHONDONTWRITEBYTECODE is set: each worker and each server or
	# manage.py child would otherwise compile the project and re-rewrite the test modules (~5 s of CPU a worker).
	PYTHONDONTWRITEBYTECODE= DB_CONN_MAX_AGE=0 $(VENV)/bin/pytest -n $(PYTEST_WORKERS) --dist loadgroup --durations=10 $(PYTEST_ARGS)

# Scoring micro-benchmarks (no database): prints latency and throughput figures.
bench: $(VENV)/.installed
	$(PY) benchmarks/scoring_bench.py

clean-venv:
	rm -rf $(VENV)
