"""Imagery (遥感非现场监管): scenes, change-detection jobs, change candidates and their review.

An analyst registers two dates of imagery (`Scene`), runs a `DetectionJob` on the pair, and the
raster core (`geodata.raster`) returns change polygons. Each becomes a `ChangeCandidate`,
intersected with grid cells and zoning (red line, control units and their access lists) and
flagged as a candidate violation with a reason. A reviewer confirms a candidate (a patrol case
is opened, source `imagery`) or dismisses it with a reason; every decision is also written to
`CandidateReview`, which outlives re-runs, so that detection precision can be measured.
`GridCellSummary` holds per-cell changed area by type from zonal statistics on the change raster.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.gis.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from geodata.raster.constants import SENSORS

SRID = settings.GRIDGOV_SRID

SENSOR_CHOICES = [
    ("sentinel2", _("哨兵二号 Sentinel-2 L2A")),
    ("landsat89", _("陆地卫星 Landsat 8/9 C2L2")),
    ("gf2", _("高分二号 GF-2 多光谱")),
    ("drone_rgb", _("无人机 RGB 正射影像")),
]
assert {c for c, _label in SENSOR_CHOICES} == set(SENSORS), "sensor choices out of step with geodata.raster"


class ChangeType(models.TextChoices):
    VEGETATION_LOSS = "vegetation_loss", _("植被减少")
    CONSTRUCTION = "construction", _("裸土/新增建设")
    WATER_CHANGE = "water_change", _("水体变化")


class SceneKind(models.TextChoices):
    STACK = "stack", _("多波段 GeoTIFF")
    SAFE = "safe", _("哨兵二号 SAFE 产品")
    STAC = "stac", _("STAC 条目")
    LANDSAT_C2 = "landsat_c2", _("Landsat C2 L2 产品")


class Scene(models.Model):
    """One registered product of one date (a stacked GeoTIFF/COG, a Sentinel-2 .SAFE folder or
    zip, a STAC item, a Landsat C2 folder); pixels stay in the files. ``path`` is for
    administrators and the command line: users see ``name``."""

    path = models.CharField(_("文件路径"), max_length=1024, unique=True)
    name = models.CharField(_("名称"), max_length=255)
    kind = models.CharField(_("产品类型"), max_length=16, choices=SceneKind.choices, default=SceneKind.STACK)
    sensor = models.CharField(_("传感器"), max_length=16, choices=SENSOR_CHOICES)
    acquired = models.DateField(_("成像日期"))
    crs = models.CharField(_("坐标系"), max_length=64, help_text=_("如 EPSG:32651；无 EPSG 编码时为 WKT 摘要"))
    footprint = models.PolygonField(_("覆盖范围"), srid=SRID)
    nodata = models.FloatField(_("无效值"), null=True, blank=True)
    band_count = models.PositiveSmallIntegerField(_("波段数"))
    width = models.PositiveIntegerField(_("宽（像素）"))
    height = models.PositiveIntegerField(_("高（像素）"))
    pixel_size = models.FloatField(_("像元大小（坐标系单位）"))
    sun_zenith = models.FloatField(_("太阳天顶角（度）"), null=True, blank=True)
    sun_azimuth = models.FloatField(_("太阳方位角（度）"), null=True, blank=True)
    synthetic = models.BooleanField(_("合成数据"), default=False, help_text=_("演示用合成影像"))
    registered_at = models.DateTimeField(_("登记时间"), auto_now_add=True)
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("登记人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("影像")
        verbose_name_plural = _("影像")
        ordering = ["-acquired", "name"]

    def __str__(self) -> str:
        label = "（合成）" if self.synthetic else ""
        return f"{self.name}{label} {self.acquired:%Y-%m-%d}"


class JobStatus(models.TextChoices):
    QUEUED = "queued", _("排队中")
    RUNNING = "running", _("运行中")
    DONE = "done", _("已完成")
    FAILED = "failed", _("失败")
    CANCELLED = "cancelled", _("已取消")


class DetectionJob(models.Model):
    """One change-detection run on a before/after pair."""

    before = models.ForeignKey(Scene, verbose_name=_("前时相"), on_delete=models.PROTECT, related_name="jobs_before")
    after = models.ForeignKey(Scene, verbose_name=_("后时相"), on_delete=models.PROTECT, related_name="jobs_after")
    sensor = models.CharField(_("传感器"), max_length=16, choices=SENSOR_CHOICES)
    params = models.JSONField(_("参数"), default=dict, blank=True)
    status = models.CharField(
        _("状态"), max_length=16, choices=JobStatus.choices, default=JobStatus.QUEUED, db_index=True
    )
    progress = models.FloatField(_("进度"), default=0.0)
    message = models.TextField(_("信息"), blank=True)
    notes = models.JSONField(_("说明"), default=list, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("发起人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    started_at = models.DateTimeField(_("开始时间"), null=True, blank=True)
    finished_at = models.DateTimeField(_("结束时间"), null=True, blank=True)
    change_raster_path = models.CharField(_("变化栅格"), max_length=1024, blank=True)
    cancel_requested = models.BooleanField(_("已请求取消"), default=False)
    candidate_count = models.PositiveIntegerField(_("候选图斑数"), default=0)
    synthetic = models.BooleanField(_("合成数据"), default=False)
    area = models.ForeignKey(
        "gridgov.AdminArea",
        verbose_name=_("所属区域"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("影像对覆盖的唯一区县；覆盖多个区县时为空（全市任务）"),
    )

    class Meta:
        verbose_name = _("变化检测任务")
        verbose_name_plural = _("变化检测任务")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(name="detectionjob_progress_0_1", condition=Q(progress__gte=0) & Q(progress__lte=1)),
            models.CheckConstraint(name="detectionjob_distinct_scenes", condition=~Q(before=models.F("after"))),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.before.name} → {self.after.name}"

    @property
    def finished(self) -> bool:
        return self.status in (JobStatus.DONE, JobStatus.FAILED, JobStatus.CANCELLED)


class CandidateStatus(models.TextChoices):
    NEW = "new", _("待审核")
    CONFIRMED = "confirmed", _("已确认")
    DISMISSED = "dismissed", _("已排除")


class ChangeCandidate(models.Model):
    """A change polygon found by a job: a candidate violation until a person reviews it."""

    job = models.ForeignKey(
        DetectionJob, verbose_name=_("检测任务"), on_delete=models.CASCADE, related_name="candidates"
    )
    geom = models.MultiPolygonField(_("图斑"), srid=SRID)
    change_type = models.CharField(_("变化类型"), max_length=24, choices=ChangeType.choices, db_index=True)
    area_m2 = models.FloatField(_("面积（平方米）"))
    confidence = models.FloatField(_("置信度"))
    mean_index_change = models.FloatField(_("平均指数变化"))
    index = models.CharField(_("指数"), max_length=16, blank=True)
    pixel_count = models.PositiveIntegerField(_("像元数"), default=0)
    grid_cell = models.ForeignKey(
        "gridgov.GridCell", verbose_name=_("网格"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    district = models.ForeignKey(
        "gridgov.AdminArea", verbose_name=_("区县"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    township = models.ForeignKey(
        "gridgov.AdminArea",
        verbose_name=_("乡镇街道"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    zones = models.JSONField(_("涉及分区"), default=list, blank=True, help_text=_("[{code, name, layer, category}]"))
    violation = models.BooleanField(_("疑似违规"), default=False, db_index=True)
    violation_reason = models.CharField(_("疑似违规原因"), max_length=1000, blank=True)
    status = models.CharField(
        _("审核状态"), max_length=16, choices=CandidateStatus.choices, default=CandidateStatus.NEW, db_index=True
    )
    review_reason = models.TextField(_("审核意见"), blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("审核人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    reviewed_at = models.DateTimeField(_("审核时间"), null=True, blank=True)
    issue = models.ForeignKey(
        "patrol.Issue",
        verbose_name=_("案件"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="imagery_candidates",
    )

    class Meta:
        verbose_name = _("变化图斑")
        verbose_name_plural = _("变化图斑")
        ordering = ["-violation", "-area_m2", "id"]
        constraints = [
            models.CheckConstraint(
                name="candidate_confidence_0_1", condition=Q(confidence__gte=0) & Q(confidence__lte=1)
            ),
            models.CheckConstraint(
                name="candidate_confirmed_has_issue", condition=~Q(status="confirmed") | Q(issue__isnull=False)
            ),
            models.CheckConstraint(
                name="candidate_dismissed_has_reason", condition=~Q(status="dismissed") | ~Q(review_reason="")
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_change_type_display()} {self.area_m2:.0f} m² (#{self.pk})"

    @property
    def zone_codes(self) -> list[str]:
        return [z["code"] for z in self.zones]


class CandidateReview(models.Model):
    """A review decision, kept even if the candidate is later replaced (detection quality).

    Append-only: a database trigger refuses UPDATE, DELETE and TRUNCATE (migration 0002); the
    only change allowed is a reference set to NULL when the row it points to is deleted."""

    class Decision(models.TextChoices):
        CONFIRMED = "confirmed", _("确认")
        DISMISSED = "dismissed", _("排除")

    candidate = models.ForeignKey(
        ChangeCandidate, verbose_name=_("图斑"), null=True, on_delete=models.SET_NULL, related_name="reviews"
    )
    job = models.ForeignKey(
        DetectionJob, verbose_name=_("检测任务"), null=True, on_delete=models.SET_NULL, related_name="+"
    )
    decision = models.CharField(_("结论"), max_length=16, choices=Decision.choices)
    reason = models.TextField(_("理由"), blank=True)
    change_type = models.CharField(_("变化类型"), max_length=24, choices=ChangeType.choices)
    area_m2 = models.FloatField(_("面积（平方米）"))
    confidence = models.FloatField(_("置信度"))
    violation = models.BooleanField(_("疑似违规"))
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("审核人"), null=True, on_delete=models.SET_NULL, related_name="+"
    )
    issue = models.ForeignKey(
        "patrol.Issue", verbose_name=_("案件"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField(_("时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("图斑审核记录")
        verbose_name_plural = _("图斑审核记录")
        ordering = ["-at"]


class GridCellSummary(models.Model):
    """Changed area by type inside one grid cell for one job (zonal statistics)."""

    job = models.ForeignKey(
        DetectionJob, verbose_name=_("检测任务"), on_delete=models.CASCADE, related_name="cell_summaries"
    )
    cell = models.ForeignKey("gridgov.GridCell", verbose_name=_("网格"), on_delete=models.CASCADE, related_name="+")
    vegetation_loss_m2 = models.FloatField(_("植被减少（平方米）"), default=0.0)
    construction_m2 = models.FloatField(_("新增建设（平方米）"), default=0.0)
    water_change_m2 = models.FloatField(_("水体变化（平方米）"), default=0.0)
    valid_area_m2 = models.FloatField(_("有效观测面积（平方米）"), default=0.0)
    candidate_count = models.PositiveIntegerField(_("图斑数"), default=0)

    class Meta:
        verbose_name = _("网格变化统计")
        verbose_name_plural = _("网格变化统计")
        ordering = ["job", "cell"]
        constraints = [models.UniqueConstraint(fields=["job", "cell"], name="gridcellsummary_one_per_job_cell")]

    @property
    def changed_m2(self) -> float:
        return self.vegetation_loss_m2 + self.construction_m2 + self.water_change_m2
