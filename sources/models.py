"""Pollution sources (一企一档): enterprises, their discharge permits and outlets.

An enterprise is known by its unified social credit code (GB 32100-2015) and is also the
`gridgov.Organization` (kind enterprise) that cases about it are dispatched to. Its permit
(排污许可证) number is the credit code, a 3-digit site sequence and a letter; sources in the
registration class (登记管理) have none. Each monitored outlet (DA### air, DW### water) has a
data logger (`monitoring.Logger`) whose limits are the permit's limits per HJ 212 factor.

Exceedance episodes and logger outages link what online monitoring found to the case it
opened (`sources.exceedance`).
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.gis.db import models
from django.core.validators import RegexValidator
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from gridgov.models import AuditRecord

from .codes import credit_code_validator

SRID = settings.GRIDGOV_SRID


class ManagementClass(models.TextChoices):
    """排污许可分类管理 after the 2019 list (固定污染源排污许可分类管理名录)."""

    KEY = "key", _("重点管理")
    SIMPLIFIED = "simplified", _("简化管理")
    REGISTRATION = "registration", _("登记管理")


class Enterprise(models.Model):
    credit_code = models.CharField(
        _("统一社会信用代码"), max_length=18, unique=True, validators=[credit_code_validator]
    )
    name = models.CharField(_("企业名称"), max_length=128)
    industry_code = models.CharField(
        _("行业类别代码"), max_length=4, validators=[RegexValidator(r"^[0-9]{4}$", _("应为 4 位数字。"))]
    )
    management_class = models.CharField(_("管理类别"), max_length=16, choices=ManagementClass.choices)
    point = models.PointField(_("位置"), srid=SRID)
    crs_note = models.CharField(_("坐标说明"), max_length=16, blank=True)
    district = models.ForeignKey(
        "gridgov.AdminArea", verbose_name=_("区县"), on_delete=models.PROTECT, related_name="+"
    )
    township = models.ForeignKey(
        "gridgov.AdminArea", verbose_name=_("乡镇街道"), null=True, on_delete=models.SET_NULL, related_name="+"
    )
    grid_cell = models.ForeignKey(
        "gridgov.GridCell", verbose_name=_("网格"), null=True, on_delete=models.SET_NULL, related_name="+"
    )
    grid_cell_code = models.CharField(_("网格编码（登记时）"), max_length=14)
    zone_hits = models.JSONField(_("所在管控单元（登记时）"), default=list, blank=True)
    # The organization a deleted demo grid takes with it (synthetic organizations are rebuilt).
    organization = models.OneToOneField(
        "gridgov.Organization", verbose_name=_("责任单位"), on_delete=models.CASCADE, related_name="enterprise"
    )
    synthetic = models.BooleanField(_("合成数据"), default=False)
    created_at = models.DateTimeField(_("登记时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("企业")
        verbose_name_plural = _("企业")
        ordering = ["credit_code"]
        constraints = [
            models.CheckConstraint(
                name="enterprise_credit_code_charset", condition=Q(credit_code__regex=r"^[0-9A-HJ-NPQRTUWXY]{18}$")
            ),
            models.CheckConstraint(
                name="enterprise_industry_4_digits", condition=Q(industry_code__regex=r"^[0-9]{4}$")
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.credit_code})"


class Permit(models.Model):
    """排污许可证: its management class is the enterprise's (key or simplified)."""

    enterprise = models.OneToOneField(
        Enterprise, verbose_name=_("企业"), on_delete=models.CASCADE, related_name="permit"
    )
    number = models.CharField(_("排污许可证编号"), max_length=22, unique=True)
    valid_from = models.DateField(_("有效期起"))
    valid_to = models.DateField(_("有效期至"))

    class Meta:
        verbose_name = _("排污许可证")
        verbose_name_plural = _("排污许可证")
        constraints = [
            models.CheckConstraint(
                name="permit_number_format", condition=Q(number__regex=r"^[0-9A-Z]{18}[0-9]{3}[A-Z]$")
            ),
            models.CheckConstraint(name="permit_valid_from_before_to", condition=Q(valid_from__lt=F("valid_to"))),
        ]

    def __str__(self) -> str:
        return self.number


class OutletKind(models.TextChoices):
    AIR = "air", _("废气排放口")
    WATER = "water", _("废水排放口")


class Outlet(models.Model):
    """排放口 DA### (air) or DW### (water), with the data logger that reports for it."""

    enterprise = models.ForeignKey(Enterprise, verbose_name=_("企业"), on_delete=models.CASCADE, related_name="outlets")
    code = models.CharField(
        _("排放口编号"), max_length=5, validators=[RegexValidator(r"^D[AW][0-9]{3}$", _("应为 DA### 或 DW###。"))]
    )
    point = models.PointField(_("位置"), srid=SRID)
    logger = models.OneToOneField(
        "monitoring.Logger", verbose_name=_("数采仪"), on_delete=models.PROTECT, related_name="outlet"
    )
    created_at = models.DateTimeField(_("登记时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("排放口")
        verbose_name_plural = _("排放口")
        ordering = ["enterprise", "code"]
        constraints = [
            models.UniqueConstraint(fields=["enterprise", "code"], name="outlet_code_unique_per_enterprise"),
            models.CheckConstraint(name="outlet_code_format", condition=Q(code__regex=r"^D[AW][0-9]{3}$")),
        ]

    def __str__(self) -> str:
        return f"{self.enterprise.name} {self.code}"

    @property
    def kind(self) -> str:
        return OutletKind.AIR if self.code.startswith("DA") else OutletKind.WATER


class Episode(models.Model):
    """An exceedance episode of one outlet's factor: exceeded hours with no 24 clear hours
    between them, and the one case it opened."""

    outlet = models.ForeignKey(Outlet, verbose_name=_("排放口"), on_delete=models.CASCADE, related_name="episodes")
    factor = models.CharField(_("监测因子"), max_length=20)
    first_hour = models.DateTimeField(_("首个超标小时"))
    last_hour = models.DateTimeField(_("最近超标小时"), db_index=True)
    hours = models.PositiveIntegerField(_("超标小时数"), default=1)
    peak = models.FloatField(_("最大小时值"))
    issue = models.OneToOneField(
        "patrol.Issue", verbose_name=_("案件"), null=True, on_delete=models.PROTECT, related_name="episode"
    )

    class Meta:
        verbose_name = _("超标事件")
        verbose_name_plural = _("超标事件")
        ordering = ["-last_hour"]
        indexes = [models.Index(fields=["outlet", "factor", "last_hour"], name="episode_outlet_factor_last")]


class EpisodeHour(models.Model):
    """One exceeded hour of an episode (a re-judged hour is not counted twice)."""

    episode = models.ForeignKey(Episode, verbose_name=_("超标事件"), on_delete=models.CASCADE, related_name="exceeded")
    hour = models.DateTimeField(_("小时"))
    value = models.FloatField(_("小时值"))
    limit_low = models.FloatField(_("下限"), null=True)
    limit_high = models.FloatField(_("上限"), null=True)
    valid_minutes = models.PositiveSmallIntegerField(_("有效分钟"), null=True)

    class Meta:
        verbose_name = _("超标小时")
        verbose_name_plural = _("超标小时")
        ordering = ["hour"]
        constraints = [models.UniqueConstraint(fields=["episode", "hour"], name="episodehour_once")]


class Outage(models.Model):
    """A period a logger was silent past MONITORING_OFFLINE_MINUTES (数采仪离线), and its case."""

    outlet = models.ForeignKey(Outlet, verbose_name=_("排放口"), on_delete=models.CASCADE, related_name="outages")
    silent_since = models.DateTimeField(_("最后通讯"))
    ended_at = models.DateTimeField(_("恢复时间"), null=True, blank=True)
    issue = models.OneToOneField(
        "patrol.Issue", verbose_name=_("案件"), null=True, on_delete=models.PROTECT, related_name="outage"
    )

    class Meta:
        verbose_name = _("数采仪离线")
        verbose_name_plural = _("数采仪离线")
        ordering = ["-silent_since"]
        constraints = [
            models.UniqueConstraint(fields=["outlet", "silent_since"], name="outage_once_per_silence"),
        ]


class SourceEvent(AuditRecord):
    """The audit trail of pollution-source records: who registered or changed what, when.

    Append-only (a trigger refuses UPDATE and DELETE), and not bound to the enterprise row by
    a foreign key, so that the history outlives the record.
    """

    enterprise_id = models.BigIntegerField(_("企业"), db_index=True)
    credit_code = models.CharField(_("统一社会信用代码"), max_length=18)

    class Meta(AuditRecord.Meta):
        verbose_name = _("企业档案记录")
        verbose_name_plural = _("企业档案记录")
