# The two front doors: `make run` (quick start on SQLite) and `make test` (the suite).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run serve worker bench faults test mutation lint typecheck fmt clean

$(BIN)/.installed: requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -r requirements-dev.txt
	touch $@

# A local SECRET_KEY for the quick start and the tests; production sets SECRET_KEY instead.
.secret_key:
	$(PYTHON) -c "import secrets; print(secrets.token_urlsafe(50))" > $@
	chmod 600 $@

run: $(BIN)/.installed .secret_key
	$(BIN)/python manage.py migrate --noinput -v0
	$(BIN)/python manage.py collectstatic --noinput -v0
	$(BIN)/python manage.py bootstrap_demo --base-url http://$(HOST):$(PORT)
	@echo "Serving on http://$(HOST):$(PORT), outbound deliveries by a worker beside it  (Ctrl-C stops both)"
	@if [ -z "$$EMAIL_HOST" ]; then echo "Emails (new leads, alerts) are written as files to $${EMAIL_FILE_PATH:-var/mail}/ (set EMAIL_HOST to send them)"; fi
	@# One web process: the SQLite default and its in-memory rate-limit counters are exact
	@# there. The delivery worker (webhooks, email, Slack; with the periodic sweep, Celery
	@# beat) uses the broker that needs no server (kombu's filesystem transport in var/celery)
	@# unless one is configured.
	@export OUTBOUND_ALLOW_PRIVATE_NETWORKS=$${OUTBOUND_ALLOW_PRIVATE_NETWORKS:-1}; \
	$(BIN)/celery -A hushmetrics worker -B --pool threads --concurrency 4 --loglevel INFO & \
	worker=$$!; \
	trap 'kill $$worker 2>/dev/null; wait $$worker 2>/dev/null' EXIT INT TERM; \
	$(BIN)/gunicorn hushmetrics.wsgi:application --bind $(HOST):$(PORT) --workers 1 \
		--threads 4 --access-logfile - --error-logfile -

# Production-like: PostgreSQL + Redis + SECRET_KEY from the environment, no DEBUG, nginx
# (deploy/nginx.conf: reads each request whole, so slow clients never hold a gunicorn thread)
# in front of gunicorn sized from the CPU count (gunicorn.conf.py), static files via whitenoise.
serve: $(BIN)/.installed
	@test -n "$$SECRET_KEY" || { echo "make serve: set SECRET_KEY" >&2; exit 1; }
	@case "$$DATABASE_URL" in postgres*) ;; *) echo "make serve: set DATABASE_URL=postgres://…" >&2; exit 1;; esac
	@test -n "$$REDIS_URL" || { echo "make serve: set REDIS_URL (rate limits shared by workers)" >&2; exit 1; }
	@command -v nginx >/dev/null || test -x /usr/sbin/nginx || { echo "make serve: install nginx (apt-get install nginx-light)" >&2; exit 1; }
	DEBUG=0 $(BIN)/python manage.py migrate --noinput -v0
	DEBUG=0 $(BIN)/python manage.py collectstatic --noinput -v0
	DEBUG=0 BIND=$${BIND:-$(HOST):$(PORT)} $(BIN)/python deploy/serve.py

# Production delivery worker: one process that also runs the periodic schedule (Celery beat:
# the sweep, the auto-disable). Every further worker, on any machine: celery -A hushmetrics worker
worker: $(BIN)/.installed
	@test -n "$$SECRET_KEY" || { echo "make worker: set SECRET_KEY" >&2; exit 1; }
	@test -n "$$CELERY_BROKER_URL$$REDIS_URL" || { echo "make worker: set CELERY_BROKER_URL or REDIS_URL" >&2; exit 1; }
	DEBUG=0 $(BIN)/celery -A hushmetrics worker -B --pool threads \
		--concurrency $${WORKER_CONCURRENCY:-16} --loglevel INFO

# Load benchmark against a same-run baseline (needs wrk, PostgreSQL and Redis): see BENCHMARKS.md.
bench: $(BIN)/.installed
	@command -v wrk >/dev/null || { echo "make bench: install wrk (apt-get install wrk)" >&2; exit 1; }
	$(BIN)/python bench/load_bench.py $(BENCH_ARGS)

# Outages under load (PostgreSQL, Redis, gunicorn signals) on servers of its own: see RELIABILITY.md.
faults: $(BIN)/.installed
	$(BIN)/python bench/faults.py $(FAULTS_ARGS)

test: $(BIN)/.installed .secret_key
	$(BIN)/pytest $(PYTEST_ARGS)

# Mutation testing of the modules that guard data (not in CI; tens of minutes): see TESTING.md.
# DATABASE_URL / REDIS_URL choose where it runs; PostgreSQL + Redis cover every path.
mutation: $(BIN)/.installed .secret_key
	$(BIN)/python bench/mutation.py $(MUTATION_ARGS)

lint: $(BIN)/.installed typecheck
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# mypy with the Django and DRF plugins over the whole project (pyproject.toml's [tool.mypy]).
# The plugin imports the settings: the SQLite default and no Redis, so no service is needed.
typecheck: $(BIN)/.installed .secret_key
	env -u DATABASE_URL -u REDIS_URL $(BIN)/mypy

fmt: $(BIN)/.installed
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .ruff_cache .mypy_cache mutants
