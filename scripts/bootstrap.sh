#!/usr/bin/env bash
# Install what GridGov needs on a Debian 12 / Ubuntu machine, then the Python venv.
# Idempotent and quick when nothing changed: apt runs only for missing packages, pip only
# when a requirements file changed since the last install.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  postgresql postgresql-contrib postgresql-postgis  # the database and PostGIS 3 for the distribution's server
  gdal-bin libgdal-dev libgeos-dev libproj-dev binutils  # GeoDjango's C libraries and ogr2ogr
  python3-venv python3-dev build-essential gettext  # gettext: compilemessages
  chromium fonts-noto-cjk                      # headless browser tests, Chinese text in screenshots/PDFs
  libpango-1.0-0 libpangoft2-1.0-0             # WeasyPrint (PDF reports)
  python3-qgis                                 # QGIS as a real OGC API / vector-tile client in the interop tests
)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "bootstrap: installing system packages: ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

PY=${PYTHON:-python3.11}
command -v "$PY" >/dev/null 2>&1 || PY=python3
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
stamp=.venv/.requirements.sha
want=$(cat requirements.txt requirements-dev.txt pyproject.toml | sha256sum | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  .venv/bin/pip install -q --upgrade pip
  .venv/bin/pip install -q -r requirements-dev.txt
  # The project itself, editable: Dask workers started as their own programs import its apps.
  .venv/bin/pip install -q --no-deps -e .
  echo "$want" > "$stamp"
fi
