"""The patrol closed loop: cases (案件) from report to acceptance, their photos and audit trail.

A case moves 上报 → 核实/立案 → 交办 → 整改中 → 整改已提交 → 验收通过 (or back to 整改中), with 督办
(escalation) when a deadline passes and 曝光 (publishing) of typical cases. The allowed moves
live in one table, `patrol.transitions.TRANSITIONS`; the actions in `patrol.actions` are the
only writers. Every move writes an `IssueEvent`, which the database refuses to change.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib.gis.db import models
from django.contrib.postgres.fields import ArrayField
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

SRID = settings.GRIDGOV_SRID


class Priority(models.TextChoices):
    NORMAL = "normal", _("一般")
    HIGH = "high", _("较高")
    URGENT = "urgent", _("紧急")


PRIORITY_ORDER = [Priority.NORMAL, Priority.HIGH, Priority.URGENT]


class Category(models.Model):
    """A problem category: top level (大气, 水, …) or a sub-category (`air.open_burning`).

    Deadlines are working days from dispatch, per priority.
    """

    code = models.CharField(_("编码"), max_length=64, unique=True)
    name = models.CharField(_("名称"), max_length=64)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("上级类别"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
        to_field="code",
    )
    default_priority = models.CharField(
        _("默认优先级"), max_length=8, choices=Priority.choices, default=Priority.NORMAL
    )
    days_normal = models.PositiveSmallIntegerField(_("一般件整改时限（工作日）"), default=10)
    days_high = models.PositiveSmallIntegerField(_("较高件整改时限（工作日）"), default=5)
    days_urgent = models.PositiveSmallIntegerField(_("紧急件整改时限（工作日）"), default=2)
    sort = models.PositiveSmallIntegerField(_("排序"), default=0)
    active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("问题类别")
        verbose_name_plural = _("问题类别")
        ordering = ["sort", "code"]
        constraints = [
            models.CheckConstraint(name="category_code_format", condition=Q(code__regex=r"^[a-z_]+(\.[a-z_]+)?$")),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    def days_for(self, priority: str) -> int:
        return {Priority.NORMAL: self.days_normal, Priority.HIGH: self.days_high, Priority.URGENT: self.days_urgent}[
            Priority(priority)
        ]


class Source(models.TextChoices):
    PATROL = "patrol", _("网格巡查")
    CITIZEN = "citizen", _("群众举报")
    IMAGERY = "imagery", _("遥感监测")
    ONLINE_MONITORING = "online_monitoring", _("在线监测")
    INSPECTION = "inspection", _("执法检查")


class Status(models.TextChoices):
    REPORTED = "reported", _("待核实")
    VERIFIED = "verified", _("已核实立案")
    REJECTED = "rejected", _("不予立案")
    DUPLICATE = "duplicate", _("重复件")
    DISPATCHED = "dispatched", _("已交办")
    RECTIFYING = "rectifying", _("整改中")
    SUBMITTED = "submitted", _("整改已提交")
    ACCEPTED = "accepted", _("验收通过（结案）")


OPEN_STATUSES = [Status.REPORTED, Status.VERIFIED, Status.DISPATCHED, Status.RECTIFYING, Status.SUBMITTED]
CLOSED_STATUSES = [Status.REJECTED, Status.DUPLICATE, Status.ACCEPTED]
# The clock runs against the responsible unit only while it has the work.
CLOCK_STATUSES = [Status.DISPATCHED, Status.RECTIFYING]


def overdue_q(now=None) -> Q:
    """超期: past its deadline while the responsible unit has the work (交办/整改中).

    The one definition of overdue: escalation (督办), the red "my tasks", the dashboard's
    counts and rankings all use it.
    """
    return Q(status__in=CLOCK_STATUSES, deadline__lt=now or timezone.now())


class Photo(models.Model):
    """An uploaded photo, keyed by the SHA-256 of the uploaded bytes (a retry stores nothing new).

    Only `image` is kept: the upright, resized copy with all metadata stripped, the one shown
    and published. The bytes as sent (EXIF with GPS, trailing data) are never written; their
    GPS position and time are kept as data (`patrol.actions.photos`).
    """

    sha256 = models.CharField(_("SHA-256"), max_length=64, primary_key=True)
    image = models.ImageField(_("展示图（已去除元数据）"), upload_to="patrol/photos/")
    width = models.PositiveIntegerField(_("宽"), default=0)
    height = models.PositiveIntegerField(_("高"), default=0)
    size_bytes = models.PositiveIntegerField(_("原图字节数"))
    content_type = models.CharField(_("格式"), max_length=32)
    exif_point = models.PointField(_("EXIF 位置"), srid=SRID, null=True, blank=True, spatial_index=False)
    exif_taken_at = models.DateTimeField(_("EXIF 拍摄时间"), null=True, blank=True)
    exif = models.JSONField(_("EXIF 摘要"), default=dict, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("上传人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    uploaded_at = models.DateTimeField(_("上传时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("照片")
        verbose_name_plural = _("照片")
        constraints = [models.CheckConstraint(name="photo_sha256_hex", condition=Q(sha256__regex=r"^[0-9a-f]{64}$"))]

    def __str__(self) -> str:
        return self.sha256[:12]


class Issue(models.Model):
    """A case (案件): one reported problem at a point, followed until it is accepted.

    Plain indexed columns (status, category, source, priority, times, area foreign keys) so
    the dashboard can aggregate without joins; per-stage timestamps sit on the row as well as
    in the audit table.
    """

    client_uuid = models.UUIDField(_("客户端编号"), unique=True, default=uuid.uuid4, editable=False)
    content_digest = models.CharField(_("内容摘要"), max_length=64, editable=False)
    token = models.UUIDField(_("Open311 令牌"), unique=True, default=uuid.uuid4, editable=False)
    source = models.CharField(_("来源"), max_length=24, choices=Source.choices, default=Source.PATROL, db_index=True)
    category = models.ForeignKey(
        Category,
        verbose_name=_("类别"),
        on_delete=models.PROTECT,
        to_field="code",
        db_column="category",
        related_name="issues",
    )
    description = models.TextField(_("问题描述"), max_length=4000, blank=True)
    point = models.PointField(_("位置"), srid=SRID)
    accuracy_m = models.FloatField(_("定位精度（米）"), null=True, blank=True)
    crs_note = models.CharField(_("坐标说明"), max_length=64, blank=True)
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("上报人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="reported_issues",
    )
    # Contact details of a citizen reporter (Open311): personal data, never published.
    contact = models.JSONField(_("联系方式（个人信息）"), default=dict, blank=True)
    photos = models.ManyToManyField(Photo, verbose_name=_("照片"), blank=True, related_name="issues")

    # Routing, fixed at report time.
    grid_cell = models.ForeignKey(
        "gridgov.GridCell",
        verbose_name=_("网格"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="issues",
    )
    township = models.ForeignKey(
        "gridgov.AdminArea",
        verbose_name=_("乡镇街道"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    district = models.ForeignKey(
        "gridgov.AdminArea", verbose_name=_("区县"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    grid_cell_code = models.CharField(_("网格编码（上报时）"), max_length=14, blank=True)
    zone_hits = models.JSONField(_("所在管控单元（上报时）"), default=list, blank=True)
    responsible_unit = models.ForeignKey(
        "gridgov.Organization",
        verbose_name=_("责任单位"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="issues",
    )

    status = models.CharField(_("状态"), max_length=16, choices=Status.choices, default=Status.REPORTED, db_index=True)
    priority = models.CharField(
        _("优先级"), max_length=8, choices=Priority.choices, default=Priority.NORMAL, db_index=True
    )
    deadline = models.DateTimeField(_("整改期限"), null=True, blank=True, db_index=True)
    deadline_overridden = models.BooleanField(_("期限经人工调整"), default=False)
    escalation_level = models.PositiveSmallIntegerField(_("督办级别"), default=0, db_index=True)
    next_escalation_at = models.DateTimeField(_("下次督办时间"), null=True, blank=True)
    duplicate_of = models.ForeignKey(
        "self", verbose_name=_("重复于"), null=True, blank=True, on_delete=models.PROTECT, related_name="duplicates"
    )
    is_public = models.BooleanField(_("已曝光"), default=False, db_index=True)
    public_description = models.TextField(_("曝光文字（已去除个人信息）"), blank=True)

    reported_at = models.DateTimeField(_("上报时间"), db_index=True)
    verified_at = models.DateTimeField(_("立案时间"), null=True, blank=True)
    dispatched_at = models.DateTimeField(_("交办时间"), null=True, blank=True)
    rectified_at = models.DateTimeField(_("整改提交时间"), null=True, blank=True)
    accepted_at = models.DateTimeField(_("验收时间"), null=True, blank=True)
    escalated_at = models.DateTimeField(_("督办时间"), null=True, blank=True)
    published_at = models.DateTimeField(_("曝光时间"), null=True, blank=True)
    closed_at = models.DateTimeField(_("结案时间"), null=True, blank=True, db_index=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("案件")
        verbose_name_plural = _("案件")
        ordering = ["-reported_at", "-id"]
        indexes = [
            models.Index(fields=["status", "deadline"], name="issue_status_deadline"),
            models.Index(fields=["category", "reported_at"], name="issue_category_reported"),
        ]
        constraints = [
            models.CheckConstraint(
                name="issue_accuracy_nonnegative", condition=Q(accuracy_m__isnull=True) | Q(accuracy_m__gte=0)
            ),
            models.CheckConstraint(
                name="issue_duplicate_has_original", condition=~Q(status="duplicate") | Q(duplicate_of__isnull=False)
            ),
            models.CheckConstraint(name="issue_not_own_duplicate", condition=~Q(duplicate_of=models.F("id"))),
            models.CheckConstraint(name="issue_escalation_level_range", condition=Q(escalation_level__lte=2)),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.category_id} {self.get_status_display()}"

    @property
    def is_overdue(self) -> bool:
        return bool(self.deadline and self.status in CLOCK_STATUSES and self.deadline < timezone.now())  # = overdue_q


class IssueEvent(models.Model):
    """One audit row per transition: who, when, from, to, note, where, which photos.

    Append-only: a trigger (migration 0002) makes the database refuse UPDATE and DELETE.
    """

    issue = models.ForeignKey(Issue, verbose_name=_("案件"), on_delete=models.PROTECT, related_name="events")
    action = models.CharField(_("操作"), max_length=32)
    from_status = models.CharField(_("原状态"), max_length=16, blank=True)
    to_status = models.CharField(_("新状态"), max_length=16)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    at = models.DateTimeField(_("时间"), db_index=True)
    note = models.TextField(_("说明"), blank=True, max_length=2000)
    point = models.PointField(_("操作位置"), srid=SRID, null=True, blank=True, spatial_index=False)
    photo_hashes = ArrayField(models.CharField(max_length=64), verbose_name=_("照片"), default=list, blank=True)
    data = models.JSONField(_("附加信息"), default=dict, blank=True)

    class Meta:
        verbose_name = _("案件流转记录")
        verbose_name_plural = _("案件流转记录")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"#{self.issue_id} {self.action} {self.from_status}→{self.to_status}"


class DispatchRule(models.Model):
    """Category × area → the default responsible unit. The most specific matching rule wins.

    A rule for `air` also covers `air.open_burning`; a rule for a township beats one for its
    district, which beats one with no area.
    """

    category = models.ForeignKey(
        Category,
        verbose_name=_("类别"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        to_field="code",
        help_text=_("留空表示所有类别；大类包含其子类"),
    )
    area = models.ForeignKey(
        "gridgov.AdminArea",
        verbose_name=_("区域"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        help_text=_("区县或乡镇街道；留空表示全市"),
    )
    organization = models.ForeignKey("gridgov.Organization", verbose_name=_("责任单位"), on_delete=models.CASCADE)
    note = models.CharField(_("备注"), max_length=128, blank=True)

    class Meta:
        verbose_name = _("派遣规则")
        verbose_name_plural = _("派遣规则")
        constraints = [
            models.UniqueConstraint(
                fields=["category", "area"], name="dispatchrule_unique_category_area", nulls_distinct=False
            )
        ]

    def __str__(self) -> str:
        return f"{self.category_id or '*'} @ {self.area or '全市'} → {self.organization}"


class Holiday(models.Model):
    """Calendar exceptions: a public holiday on a weekday, or a weekend made a working day (调休)."""

    date = models.DateField(_("日期"), unique=True)
    name = models.CharField(_("名称"), max_length=32)
    is_workday = models.BooleanField(_("调休上班"), default=False)

    class Meta:
        verbose_name = _("节假日")
        verbose_name_plural = _("节假日")
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.date} {self.name}"


class Notification(models.Model):
    """A message to a person (督办 notices); delivery beyond the inbox is out of scope here."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("接收人"),
        on_delete=models.CASCADE,
        related_name="patrol_notifications",
    )
    issue = models.ForeignKey(Issue, verbose_name=_("案件"), on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(_("类型"), max_length=32)
    message = models.CharField(_("内容"), max_length=256)
    created_at = models.DateTimeField(_("时间"), db_index=True)
    read_at = models.DateTimeField(_("已读时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("通知")
        verbose_name_plural = _("通知")
        ordering = ["-created_at"]


class ApiKey(models.Model):
    """An Open311 api_key, issued in admin to a citizen app."""

    key = models.CharField(_("密钥"), max_length=64, unique=True)
    name = models.CharField(_("应用名称"), max_length=64)
    active = models.BooleanField(_("有效"), default=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("Open311 密钥")
        verbose_name_plural = _("Open311 密钥")

    def __str__(self) -> str:
        return self.name
