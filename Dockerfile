# Production image: GeoDjango under gunicorn (scripts/gunicorn.conf.py), DEBUG off, static files
# compressed for WhiteNoise and translations compiled at build time. Used by docker-compose.yml
# for deployments, never by the tests.
FROM python:3.11-slim-bookworm
RUN apt-get update && apt-get install -y --no-install-recommends \
        gdal-bin libgdal-dev libgeos-dev libproj-dev binutils build-essential gettext \
        libpango-1.0-0 libpangoft2-1.0-0 fonts-noto-cjk postgresql-client \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
ENV DJANGO_SETTINGS_MODULE=gridgov.settings PYTHONUNBUFFERED=1 GRIDGOV_VAR_DIR=/app/var
# Build steps need settings but no database and no real secret (nothing is signed here).
RUN SECRET_KEY=build-only DATABASE_URL=postgres://x@localhost/x python manage.py collectstatic --noinput -v 0 \
    && SECRET_KEY=build-only DATABASE_URL=postgres://x@localhost/x python manage.py compilemessages -v 0
EXPOSE 8000
CMD ["gunicorn", "-c", "scripts/gunicorn.conf.py"]
