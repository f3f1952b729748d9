from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class GridgovConfig(AppConfig):
    name = "gridgov"
    verbose_name = _("网格核心")

    def ready(self) -> None:
        from .db.roles import apply_after_migrate

        # Once per migrate (sender: this app), after every app's migrations: the runtime role's
        # privileges and the TRUNCATE guards, so tables a migration adds are covered at once.
        post_migrate.connect(apply_after_migrate, sender=self, dispatch_uid="gridgov-runtime-role")
        # Login lock-out and token revocation listen to Django's auth signals.
        from . import login  # noqa: F401

        # OGC collections of the grid core, and with them their vector-tile layers.
        from .ogc import core, registry

        registry.register(core.GRID_CELLS)
        registry.register(core.ADMIN_AREAS)
