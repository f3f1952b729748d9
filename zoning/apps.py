from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ZoningConfig(AppConfig):
    name = "zoning"
    verbose_name = _("三线一单分区管控")
