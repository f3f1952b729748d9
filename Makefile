# GridGov: `make run` sets everything up and serves; `make test` sets up and runs the suite.
SHELL := /bin/bash
PY := .venv/bin/python
PORT ?= 8000
export DEBUG ?= 1

.PHONY: run test stop setup deps db migrate demo worker bench reliability lint backup restore messages

setup: deps db migrate

deps:
	@scripts/bootstrap.sh

# The project-local PostGIS under var/pg, unless DATABASE_URL points elsewhere.
db: deps
	@if [ -z "$$DATABASE_URL" ]; then scripts/pg.sh start; fi

migrate: db
	@$(PY) manage.py migrate --noinput -v 0
	@$(PY) manage.py createcachetable
	@$(PY) manage.py collectstatic --noinput -v 0
	@$(PY) manage.py compilemessages -v 0 --ignore=.venv --ignore=var

demo: migrate
	@$(PY) manage.py load_demo

worker: migrate
	@scripts/worker.sh start

run: demo worker
	@echo "GridGov serving at http://127.0.0.1:$(PORT)/  (make stop to stop)"
	@$(PY) manage.py runserver 127.0.0.1:$(PORT)

test: migrate
	@$(PY) -m pytest $(PYTEST_ARGS)

stop:
	@scripts/worker.sh stop || true
	@scripts/pg.sh stop || true

bench: migrate
	@scripts/bench.sh $(B)

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
