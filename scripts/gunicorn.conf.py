"""gunicorn settings of `make run`, the Docker image and `make reliability` (gunicorn -c this file).

Workers: 2 × cores + 1 (at most 9; WEB_WORKERS to choose), each with its own persistent
database connection. Bound to HOST:PORT (127.0.0.1:8000 unless set; BIND overrides both).
"""

import multiprocessing
import os

bind = os.environ.get("BIND") or f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_WORKERS") or min(2 * multiprocessing.cpu_count() + 1, 9))
# A request that runs longer is cut off; database statements stop at DB_STATEMENT_TIMEOUT first.
timeout = int(os.environ.get("WEB_TIMEOUT", "60"))
graceful_timeout = 10
keepalive = 5
# Recycle workers now and then, so a slow leak (GDAL caches, big uploads) cannot grow forever.
max_requests = 5000
max_requests_jitter = 500
wsgi_app = "gridgov.wsgi:application"
