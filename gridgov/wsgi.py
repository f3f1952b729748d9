import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gridgov.settings")
# Whatever WSGI server imports this module serves web requests: the settings give such a process
# the runtime database role and the web statement_timeout (gridgov/settings.py).
os.environ.setdefault("GRIDGOV_PROCESS", "web")
application = get_wsgi_application()
