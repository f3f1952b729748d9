from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SourcesConfig(AppConfig):
    name = "sources"
    verbose_name = _("污染源")

    def ready(self) -> None:
        from monitoring import signals

        from . import exceedance

        signals.hours_exceeded.connect(exceedance.on_hours_exceeded, dispatch_uid="sources-exceedance")
        signals.loggers_offline.connect(exceedance.on_loggers_offline, dispatch_uid="sources-offline")
        signals.loggers_online.connect(exceedance.on_loggers_online, dispatch_uid="sources-online")
