from django.apps import AppConfig
from django.conf import settings
from django.db.backends.signals import connection_created
from django.utils.translation import gettext_lazy as _


def allow_prepared_statements(sender, connection, **kwargs) -> None:
    """Let explicitly prepared hot queries (locate) be prepared on Django's connections.

    Django turns psycopg's prepared statements off (prepare_threshold=None) for the sake of
    transaction-pooling proxies, and psycopg then ignores even `execute(..., prepare=True)`.
    ORM queries use client-side binding and are never prepared either way, so this only
    affects the queries we prepare on purpose. DB_PREPARED_STATEMENTS=0 keeps it off.
    """
    if connection.vendor == "postgresql" and settings.GRIDGOV_PREPARED_STATEMENTS:
        connection.connection.prepare_threshold = 5


class GridgovConfig(AppConfig):
    name = "gridgov"
    verbose_name = _("网格核心")

    def ready(self) -> None:
        connection_created.connect(allow_prepared_statements, dispatch_uid="gridgov-prepared-statements")
        # OGC collections of the grid core, and with them their vector-tile layers.
        from .ogc import core, registry

        registry.register(core.GRID_CELLS)
        registry.register(core.ADMIN_AREAS)
