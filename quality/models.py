"""Environmental quality stations: ambient air stations and surface water sections (断面).

A station is a data logger of `monitoring` (kind station): it sends HJ 212 packets (ST 22 air,
ST 21 surface water) to the same receiver as the pollution sources' outlets, and its data go to
the same partitioned store. The station adds what quality needs: its code and kind and, for a
water section, its target class (水质目标) and whether it lies in a river or a lake or
reservoir (total phosphorus has its own limits there). Its place in the grid (district,
township) is its logger's.

An off-target episode (`OffTargetEpisode`) is a run of days whose class was worse than the
section's target, with the one case it opened for the section's township.
"""

from __future__ import annotations

from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from gridgov.models import AuditRecord

from .water import CLASSES, TARGETS

CODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$"


class StationKind(models.TextChoices):
    AIR = "air", _("空气质量监测站")
    WATER = "water", _("地表水水质监测断面")


class WaterBody(models.TextChoices):
    RIVER = "river", _("河流")
    LAKE = "lake", _("湖库")


TargetClass = models.TextChoices("TargetClass", [(c, c) for c in TARGETS])
WaterClass = models.TextChoices("WaterClass", [(c, c) for c in CLASSES])


class Station(models.Model):
    code = models.CharField(
        _("站点编码"),
        max_length=32,
        unique=True,
        validators=[RegexValidator(CODE_PATTERN, _("应为 1–32 位字母、数字、下划线或连字符。"))],
    )
    name = models.CharField(_("站点名称"), max_length=128)
    kind = models.CharField(_("站点类型"), max_length=8, choices=StationKind.choices)
    logger = models.OneToOneField(
        "monitoring.Logger", verbose_name=_("数采仪"), on_delete=models.PROTECT, related_name="quality_station"
    )
    target_class = models.CharField(_("水质目标"), max_length=3, choices=TargetClass.choices, blank=True)
    water_body = models.CharField(_("水体类型"), max_length=8, choices=WaterBody.choices, blank=True)
    synthetic = models.BooleanField(_("合成数据"), default=False)
    created_at = models.DateTimeField(_("登记时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("环境质量监测站点")
        verbose_name_plural = _("环境质量监测站点")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(name="station_code_format", condition=Q(code__regex=CODE_PATTERN)),
            # Air stations have neither a target class nor a water body; sections always a body.
            models.CheckConstraint(
                name="station_water_fields_by_kind",
                condition=Q(kind="air", target_class="", water_body="")
                | Q(kind="water", water_body__in=["river", "lake"]),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class OffTargetEpisode(models.Model):
    """Days of a water section whose class was worse than its target, in a row (days without a
    class do not end it; a day that meets the target does), and the case it opened."""

    station = models.ForeignKey(Station, verbose_name=_("断面"), on_delete=models.CASCADE, related_name="episodes")
    first_day = models.DateField(_("首个不达标日"))
    last_day = models.DateField(_("最近不达标日"))
    days = models.PositiveIntegerField(_("不达标天数"), default=1)
    worst_class = models.CharField(_("最差类别"), max_length=3, choices=WaterClass.choices)
    ended_on = models.DateField(_("恢复达标日"), null=True, blank=True)
    issue = models.OneToOneField(
        "patrol.Issue", verbose_name=_("案件"), null=True, on_delete=models.PROTECT, related_name="offtarget_episode"
    )

    class Meta:
        verbose_name = _("断面不达标事件")
        verbose_name_plural = _("断面不达标事件")
        ordering = ["-last_day"]
        constraints = [
            models.UniqueConstraint(fields=["station", "first_day"], name="offtarget_episode_once"),
            models.CheckConstraint(name="offtarget_days_in_order", condition=Q(first_day__lte=models.F("last_day"))),
        ]

    def __str__(self) -> str:
        return f"{self.station_id} {self.first_day}–{self.last_day} {self.worst_class}"


class StationEvent(AuditRecord):
    """The audit trail of stations: who registered what, when. Append-only (a trigger refuses
    UPDATE and DELETE; settings.GRIDGOV_APPEND_ONLY_TABLES), not bound to the station row."""

    station_id = models.BigIntegerField(_("站点"), db_index=True)
    code = models.CharField(_("站点编码"), max_length=32)

    class Meta(AuditRecord.Meta):
        verbose_name = _("站点记录")
        verbose_name_plural = _("站点记录")

    def __str__(self) -> str:
        return f"{self.code} {self.action} {self.at:%Y-%m-%d %H:%M}"
