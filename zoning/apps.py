from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ZoningConfig(AppConfig):
    name = "zoning"
    verbose_name = _("三线一单分区管控")

    def ready(self) -> None:
        # OGC collections, and with them the vector-tile layers of the same names.
        from gridgov.ogc.registry import register

        from .ogc import CONTROL_UNITS, RED_LINE

        register(CONTROL_UNITS)
        register(RED_LINE)
