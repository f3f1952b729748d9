"""双随机一公开: random sources, random inspectors, results public.

A `Plan` (period, scope areas, sampling `Pool`s, inspectors per inspection) is edited as a draft,
then committed: its inputs are frozen into `Plan.inputs` (the pools' credit codes, the inspectors
by opaque key, the avoidance pairs) and the SHA-256 of a random seed is published. The draw then
reveals the seed and runs `inspections.draw` (algorithm `gridgov-draw-1`), which anyone can
recompute from the public JSON. Each `Inspection` carries a 行政行为码 (administrative-action code)
and stays confidential (drawn inspectors and supervisors only) until its result is recorded.
"""

from __future__ import annotations

import datetime as dt
import uuid

from django.conf import settings
from django.contrib.gis.db import models
from django.contrib.postgres.fields import ArrayField
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from sources.models import ManagementClass

SRID = settings.GRIDGOV_SRID


class PlanStatus(models.TextChoices):
    DRAFT = "draft", _("草稿")
    COMMITTED = "committed", _("已承诺（种子摘要已公布）")
    DRAWN = "drawn", _("已抽取")


class Plan(models.Model):
    name = models.CharField(_("计划名称"), max_length=128)
    period_start = models.DateField(_("开始日期"))
    period_end = models.DateField(_("结束日期"))
    scope = models.ManyToManyField("gridgov.AdminArea", verbose_name=_("抽查范围"), related_name="+")
    per_inspection = models.PositiveSmallIntegerField(
        _("每次检查人数"), default=2, validators=[MinValueValidator(1), MaxValueValidator(10)]
    )
    publish_days = models.PositiveSmallIntegerField(
        _("结果公开期限（天）"), default=20, help_text=_("计划结束后至迟多少天公开全部抽取结果")
    )
    inspectors = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name=_("指定执法人员"), blank=True, related_name="+"
    )
    status = models.CharField(_("状态"), max_length=16, choices=PlanStatus.choices, default=PlanStatus.DRAFT)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("制定人"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("制定时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    algorithm = models.CharField(_("抽取算法"), max_length=32, blank=True)
    seed = models.CharField(_("随机种子"), max_length=128, blank=True, help_text=_("抽取前保密"))
    seed_sha256 = models.CharField(_("种子 SHA-256"), max_length=64, blank=True)
    inputs = models.JSONField(_("冻结的抽取输入"), null=True, blank=True)
    inputs_sha256 = models.CharField(_("输入 SHA-256"), max_length=64, blank=True)
    # Private: which account each public inspector key stands for (the public sees names only).
    inspector_keys = models.JSONField(_("执法人员编号对照"), null=True, blank=True)
    committed_at = models.DateTimeField(_("承诺时间"), null=True, blank=True)
    drawn_at = models.DateTimeField(_("抽取时间"), null=True, blank=True)
    synthetic = models.BooleanField(_("合成数据"), default=False)

    @property
    def publish_deadline(self) -> dt.date:
        """The last day for publishing the whole draw: the period's end + ``publish_days``."""
        return self.period_end + dt.timedelta(days=self.publish_days)

    class Meta:
        verbose_name = _("双随机抽查计划")
        verbose_name_plural = _("双随机抽查计划")
        ordering = ["-period_start", "-id"]
        constraints = [
            models.CheckConstraint(name="plan_period_ordered", condition=Q(period_end__gte=models.F("period_start"))),
            models.CheckConstraint(
                name="plan_committed_has_commitment",
                condition=Q(status="draft") | (~Q(seed_sha256="") & ~Q(inputs_sha256="") & Q(inputs__isnull=False)),
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Pool(models.Model):
    """A sampling pool: sources of a management class and credit levels, drawn at a ratio.

    Pools are disjoint: a source falls in the first pool (by position) that it matches."""

    plan = models.ForeignKey(Plan, verbose_name=_("计划"), on_delete=models.CASCADE, related_name="pools")
    position = models.PositiveSmallIntegerField(_("顺序"))
    management_class = models.CharField(
        _("管理类别"), max_length=16, choices=ManagementClass.choices, blank=True, help_text=_("留空表示全部")
    )
    credit_levels = ArrayField(
        models.CharField(max_length=8),
        verbose_name=_("信用等级"),
        default=list,
        blank=True,
        help_text=_("留空表示全部"),
    )
    ratio = models.DecimalField(
        _("抽取比例"), max_digits=5, decimal_places=4, validators=[MinValueValidator(0), MaxValueValidator(1)]
    )

    class Meta:
        verbose_name = _("抽查池")
        verbose_name_plural = _("抽查池")
        ordering = ["plan", "position"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "position"], name="pool_unique_position"),
            models.CheckConstraint(name="pool_ratio_0_1", condition=Q(ratio__gte=0) & Q(ratio__lte=1)),
        ]


class InspectorDuty(models.Model):
    """执法人员名录库: who may be drawn as an inspector, and for which area."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("执法人员"), on_delete=models.CASCADE, related_name="inspector_duties"
    )
    area = models.ForeignKey(
        "gridgov.AdminArea", verbose_name=_("执法区域"), on_delete=models.CASCADE, related_name="+"
    )
    certificate = models.CharField(_("执法证号"), max_length=32, blank=True)
    active = models.BooleanField(_("在岗"), default=True)

    class Meta:
        verbose_name = _("执法人员名录")
        verbose_name_plural = _("执法人员名录")
        constraints = [models.UniqueConstraint(fields=["user", "area"], name="inspectorduty_unique")]


class DeclaredConflict(models.Model):
    """回避: an inspector's declared conflict of interest with an enterprise."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("执法人员"), on_delete=models.CASCADE, related_name="+"
    )
    credit_code = models.CharField(_("统一社会信用代码"), max_length=18)
    reason = models.CharField(_("回避事由"), max_length=200)
    declared_at = models.DateTimeField(_("申报时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("回避申报")
        verbose_name_plural = _("回避申报")
        constraints = [models.UniqueConstraint(fields=["user", "credit_code"], name="declaredconflict_unique")]


class Outcome(models.TextChoices):
    PASS = "pass", _("合格")
    PROBLEMS = "problems", _("发现问题")


class Inspection(models.Model):
    plan = models.ForeignKey(Plan, verbose_name=_("计划"), on_delete=models.PROTECT, related_name="inspections")
    position = models.PositiveIntegerField(_("序号"))
    pool = models.PositiveSmallIntegerField(_("抽查池序号"))
    credit_code = models.CharField(_("统一社会信用代码"), max_length=18, db_index=True)
    code = models.CharField(_("行政行为码"), max_length=40, unique=True)
    inspectors = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="InspectionInspector", verbose_name=_("检查人员"), related_name="inspections"
    )
    outcome = models.CharField(_("检查结果"), max_length=16, choices=Outcome.choices, blank=True)
    done_at = models.DateTimeField(_("检查时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("抽查检查")
        verbose_name_plural = _("抽查检查")
        ordering = ["plan", "position"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "position"], name="inspection_unique_position"),
            models.UniqueConstraint(fields=["plan", "credit_code"], name="inspection_once_per_plan"),
        ]

    def __str__(self) -> str:
        return self.code


class InspectionInspector(models.Model):
    inspection = models.ForeignKey(Inspection, on_delete=models.CASCADE, related_name="team")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    key = models.CharField(_("抽取编号"), max_length=8)
    position = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["inspection", "position"]
        constraints = [models.UniqueConstraint(fields=["inspection", "user"], name="inspectioninspector_unique")]


class InspectionResult(models.Model):
    """The result recorded on site, exactly once by a client-generated id (offline resends)."""

    inspection = models.OneToOneField(
        Inspection, verbose_name=_("检查"), on_delete=models.PROTECT, related_name="result"
    )
    client_uuid = models.UUIDField(_("客户端编号"), unique=True, default=uuid.uuid4)
    content_digest = models.CharField(_("内容摘要"), max_length=64)
    outcome = models.CharField(_("检查结果"), max_length=16, choices=Outcome.choices)
    problems = models.TextField(_("发现的问题"), max_length=4000, blank=True)
    legal_basis = models.CharField(_("法律依据"), max_length=500, blank=True)
    photo_hashes = ArrayField(models.CharField(max_length=64), verbose_name=_("照片"), default=list, blank=True)
    point = models.PointField(_("检查位置"), srid=SRID, null=True, blank=True, spatial_index=False)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("记录人"), on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(_("记录时间"))
    issue = models.OneToOneField(
        "patrol.Issue",
        verbose_name=_("问题案件"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="inspection_result",
    )

    class Meta:
        verbose_name = _("检查结果")
        verbose_name_plural = _("检查结果")
        constraints = [
            models.CheckConstraint(
                name="inspectionresult_problems_described",
                condition=Q(outcome="pass") | (~Q(problems="") & ~Q(legal_basis="")),
            )
        ]


class PlanEvent(models.Model):
    """Audit of a plan: created, edited, committed, drawn, results. Append-only (migration 0002)."""

    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="events")
    action = models.CharField(_("操作"), max_length=32)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    at = models.DateTimeField(_("时间"))
    data = models.JSONField(_("附加信息"), default=dict, blank=True)

    class Meta:
        verbose_name = _("计划操作记录")
        verbose_name_plural = _("计划操作记录")
        ordering = ["at", "id"]
