#!/usr/bin/env bash
# First start of the postgis/postgis container (docker-entrypoint-initdb.d): the two roles of
# docs/deployment.md. POSTGRES_USER is the superuser for this set-up only; the app never uses it.
set -euo pipefail
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
  -v owner_pw="$GRIDGOV_OWNER_PASSWORD" -v app_pw="$GRIDGOV_APP_PASSWORD" <<'SQL'
CREATE ROLE gridgov_owner LOGIN NOSUPERUSER NOCREATEROLE CREATEDB PASSWORD :'owner_pw';
CREATE ROLE gridgov_app LOGIN NOSUPERUSER NOCREATEROLE NOCREATEDB PASSWORD :'app_pw';
CREATE DATABASE gridgov OWNER gridgov_owner;
\connect template1
CREATE EXTENSION IF NOT EXISTS postgis;
\connect gridgov
CREATE EXTENSION IF NOT EXISTS postgis;
SQL
