# Production image: GeoDjango under gunicorn. Used by docker-compose.yml for deployments,
# never by the tests.
FROM python:3.11-slim-bookworm
RUN apt-get update && apt-get install -y --no-install-recommends \
        gdal-bin libgdal-dev libgeos-dev libproj-dev binutils build-essential \
        libpango-1.0-0 libpangoft2-1.0-0 fonts-noto-cjk postgresql-client \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
ENV DJANGO_SETTINGS_MODULE=gridgov.settings PYTHONUNBUFFERED=1
RUN DEBUG=1 DATABASE_URL=postgres://x@localhost/x python manage.py collectstatic --noinput -v 0
EXPOSE 8000
CMD ["gunicorn", "gridgov.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--timeout", "120"]
