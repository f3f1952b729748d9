from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class QualityConfig(AppConfig):
    name = "quality"
    verbose_name = _("环境质量")

    def ready(self) -> None:
        # The stations as an OGC collection, and with it a vector-tile layer of the same name.
        from gridgov.ogc.registry import register

        from .ogc import STATIONS

        register(STATIONS)
