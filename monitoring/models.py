"""Online monitoring: the data loggers (数采仪) that speak HJ 212, their limits and counters.

A `Logger` is one monitoring point known by its MN: the logger at a pollution source's
outlet (sources.Outlet) or at an air or water quality station. Its data go to one store,
`monitoring_reading`, a PostgreSQL table partitioned by period and month that Django does not
manage (see `monitoring.store`): one row per logger, factor, period and time.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.gis.db import models
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

SRID = settings.GRIDGOV_SRID


class LoggerKind(models.TextChoices):
    OUTLET = "outlet", _("排放口")
    STATION = "station", _("监测站点")


class ExceedanceRule(models.TextChoices):
    """How a valid hour is compared with the limit (our default: the hourly mean)."""

    MEAN = "mean", _("小时均值超过限值")
    MAX = "max", _("小时内最大值超过限值")


class Logger(models.Model):
    """A data logger (数采仪) and the monitoring point it reports for.

    The receiver keeps the counters and times below up to date in bulk, in the same
    transaction as the data they count (`monitoring.store.write_batch`); everything else is
    written by `monitoring.services`.
    """

    mn = models.CharField(_("设备唯一标识 MN"), max_length=64, unique=True)
    password = models.CharField(_("访问密码 PW"), max_length=64)
    kind = models.CharField(_("点位类型"), max_length=16, choices=LoggerKind.choices)
    name = models.CharField(_("名称"), max_length=160)
    point = models.PointField(_("位置"), srid=SRID)
    district = models.ForeignKey(
        "gridgov.AdminArea", verbose_name=_("区县"), null=True, on_delete=models.PROTECT, related_name="+"
    )
    township = models.ForeignKey(
        "gridgov.AdminArea", verbose_name=_("乡镇街道"), null=True, on_delete=models.PROTECT, related_name="+"
    )
    grid_cell = models.ForeignKey(
        "gridgov.GridCell", verbose_name=_("网格"), null=True, on_delete=models.SET_NULL, related_name="+"
    )
    exceedance_rule = models.CharField(
        _("超标判定"), max_length=8, choices=ExceedanceRule.choices, default=ExceedanceRule.MEAN
    )
    min_valid_minutes = models.PositiveSmallIntegerField(
        _("小时有效分钟数下限"), default=45, validators=[MinValueValidator(1), MaxValueValidator(60)]
    )
    active = models.BooleanField(_("启用"), default=True)
    synthetic = models.BooleanField(_("合成数据"), default=False)
    created_at = models.DateTimeField(_("登记时间"), auto_now_add=True)

    last_seen = models.DateTimeField(_("最近通讯"), null=True, blank=True)
    last_data_time = models.DateTimeField(_("最近数据时间"), null=True, blank=True)
    accepted = models.BigIntegerField(_("已接收报文"), default=0)
    duplicates = models.BigIntegerField(_("重发报文"), default=0)
    rejected = models.BigIntegerField(_("拒收报文"), default=0)
    offline_since = models.DateTimeField(_("离线起始"), null=True, blank=True)

    class Meta:
        verbose_name = _("数采仪")
        verbose_name_plural = _("数采仪")
        ordering = ["mn"]
        constraints = [
            models.CheckConstraint(name="logger_mn_printable", condition=Q(mn__regex=r"^[!-~]{1,64}$")),
            models.CheckConstraint(name="logger_pw_printable", condition=Q(password__regex=r"^[!-~]{1,64}$")),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.mn})"


class Limit(models.Model):
    """A permitted limit for one factor (HJ 212 code): an upper bound, or a range (pH)."""

    logger = models.ForeignKey(Logger, verbose_name=_("数采仪"), on_delete=models.CASCADE, related_name="limits")
    factor = models.CharField(_("监测因子"), max_length=20)
    low = models.FloatField(_("下限"), null=True, blank=True)
    high = models.FloatField(_("上限"), null=True, blank=True)

    class Meta:
        verbose_name = _("排放限值")
        verbose_name_plural = _("排放限值")
        ordering = ["logger", "factor"]
        constraints = [
            models.UniqueConstraint(fields=["logger", "factor"], name="limit_one_per_factor"),
            models.CheckConstraint(name="limit_has_a_bound", condition=Q(low__isnull=False) | Q(high__isnull=False)),
            models.CheckConstraint(
                name="limit_low_below_high", condition=Q(low__isnull=True) | Q(high__isnull=True) | Q(low__lt=F("high"))
            ),
        ]

    def __str__(self) -> str:
        return f"{self.factor} [{self.low}, {self.high}]"


class Rejection(models.Model):
    """Packets the receiver refused, counted per claimed MN and reason (garbage has no MN)."""

    mn = models.CharField(_("设备标识（报文所称）"), max_length=64, blank=True)
    reason = models.CharField(_("原因"), max_length=16)
    count = models.BigIntegerField(_("次数"), default=0)
    last_at = models.DateTimeField(_("最近一次"))

    class Meta:
        verbose_name = _("拒收统计")
        verbose_name_plural = _("拒收统计")
        constraints = [models.UniqueConstraint(fields=["mn", "reason"], name="rejection_one_row_per_mn_reason")]
