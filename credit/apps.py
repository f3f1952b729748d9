from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CreditConfig(AppConfig):
    name = "credit"
    verbose_name = _("环境信用评价")

    def ready(self) -> None:
        from . import receivers  # noqa: F401  (accepted cases become evidence)
