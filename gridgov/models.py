"""The grid core: administrative areas, grid cells, people, roles and jurisdiction.

Hangzhou's supervision hierarchy runs city → district/county → township/street → grid cell.
Every cell has a 网格长 (leader) and grid officers (网格员); every user has a role and a scope,
a set of administrative areas whose descendants they may see.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.contrib.gis.db import models
from django.contrib.gis.geos import Polygon
from django.core.validators import RegexValidator
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

SRID = settings.GRIDGOV_SRID
# The boundaries of an object's district and township (large polygons): deferred wherever the
# areas are shown by name only (lists, pages), `qs.select_related(...).defer(*NO_BOUNDARIES)`.
NO_BOUNDARIES = ("district__geom", "township__geom")


def bbox_polygon(bbox) -> Polygon:
    """A (west, south, east, north) box in WGS84, or a polygon as it is, as a polygon in the
    storage SRID: for `intersects`, which is `&&` on the index and then ST_Intersects on the
    shape (a row whose bounding box meets the box while its shape lies beside it stays out)."""
    box = Polygon.from_bbox(tuple(bbox)) if isinstance(bbox, tuple | list) else bbox.clone()
    box.srid = box.srid or SRID
    return box


class AreaLevel(models.TextChoices):
    CITY = "city", _("市")
    DISTRICT = "district", _("区县")
    TOWNSHIP = "township", _("乡镇街道")


class AdminAreaQuerySet(models.QuerySet):
    def covering(self, point) -> AdminAreaQuerySet:
        """Areas whose polygon covers the point (a point on a boundary counts as inside)."""
        return self.filter(geom__covers=point)

    def in_bbox(self, bbox) -> AdminAreaQuerySet:
        """Areas whose polygon meets the WGS84 box (minlon, minlat, maxlon, maxlat) or box polygon.

        `intersects` is `&&` on the index, then ST_Intersects on the shape: an area whose
        bounding box overlaps the box while the area itself lies beside it is not in it.
        """
        return self.filter(geom__intersects=bbox_polygon(bbox))


class AdminArea(models.Model):
    """A city, district/county (6-digit GB/T 2260 code) or township/street (9 digits)."""

    level = models.CharField(_("级别"), max_length=16, choices=AreaLevel.choices, db_index=True)
    code = models.CharField(_("行政区划代码"), max_length=9, unique=True)
    name = models.CharField(_("名称"), max_length=64)
    parent = models.ForeignKey(
        "self", verbose_name=_("上级"), null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    geom = models.MultiPolygonField(_("边界"), srid=SRID)
    synthetic = models.BooleanField(_("合成数据"), default=False, help_text=_("演示用合成数据，非真实边界"))

    objects = AdminAreaQuerySet.as_manager()

    class Meta:
        verbose_name = _("行政区")
        verbose_name_plural = _("行政区")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                name="adminarea_code_matches_level",
                condition=(
                    Q(level__in=["city", "district"], code__regex=r"^[0-9]{6}$")
                    | Q(level="township", code__regex=r"^[0-9]{9}$")
                ),
            ),
            models.CheckConstraint(
                name="adminarea_only_city_is_root", condition=Q(level="city") | Q(parent__isnull=False)
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    @property
    def district_code(self) -> str:
        return self.code[:6]


grid_code_validator = RegexValidator(r"^[0-9]{14}$", _("网格编码应为 14 位数字（区县 6 + 乡镇 3 + 社区 3 + 序号 2）"))


class GridCellQuerySet(models.QuerySet):
    def covering(self, point) -> GridCellQuerySet:
        """Cells covering the point, through the subdivided helper table (fast on 100k cells)."""
        return self.filter(parts__geom__covers=point).distinct()

    def in_bbox(self, bbox) -> GridCellQuerySet:
        """Cells whose polygon meets the box (as `AdminAreaQuerySet.in_bbox`: the shape, not its box)."""
        return self.filter(geom__intersects=bbox_polygon(bbox))


class GridCell(models.Model):
    """The unit grid of supervision (GB/T 30428): district 6 + township 3 + community 3 + seq 2."""

    code = models.CharField(_("网格编码"), max_length=14, unique=True, validators=[grid_code_validator])
    name = models.CharField(_("名称"), max_length=64, blank=True)
    township = models.ForeignKey(
        AdminArea,
        verbose_name=_("乡镇街道"),
        on_delete=models.PROTECT,
        related_name="grid_cells",
        limit_choices_to={"level": AreaLevel.TOWNSHIP},
    )
    level = models.PositiveSmallIntegerField(
        _("网格等级"), default=2, help_text=_("1 重点 / 2 一般 / 3 基础：决定巡查频次")
    )
    geom = models.MultiPolygonField(_("范围"), srid=SRID)
    synthetic = models.BooleanField(_("合成数据"), default=True)
    officers = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="GridAssignment", related_name="grid_cells", verbose_name=_("网格人员")
    )

    objects = GridCellQuerySet.as_manager()

    class Meta:
        verbose_name = _("网格")
        verbose_name_plural = _("网格")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(name="gridcell_code_14_digits", condition=Q(code__regex=r"^[0-9]{14}$")),
        ]

    def __str__(self) -> str:
        return self.code


class GridCellPart(models.Model):
    """A piece of a grid cell's polygon from ST_Subdivide, so point lookups test few vertices.

    Kept in step by `gridgov.services.grid_cell_save`; MapIt keeps `GeometrySubdivided` for
    the same reason.
    """

    cell = models.ForeignKey(GridCell, on_delete=models.CASCADE, related_name="parts")
    geom = models.PolygonField(srid=SRID)
    # The answer of a point lookup, copied here so locate reads one row of one table.
    # Rebuilt with the parts by services.grid_cells_subdivide and admin_area_save.
    cell_code = models.CharField(max_length=14)
    township_code = models.CharField(max_length=9)
    township_name = models.CharField(max_length=64)
    district_code = models.CharField(max_length=6)
    district_name = models.CharField(max_length=64)

    class Meta:
        verbose_name = _("网格分块")


class Duty(models.TextChoices):
    LEADER = "leader", _("网格长")
    OFFICER = "officer", _("网格员")


class GridAssignment(models.Model):
    cell = models.ForeignKey(GridCell, on_delete=models.CASCADE, related_name="assignments")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="grid_assignments")
    duty = models.CharField(_("职责"), max_length=16, choices=Duty.choices, default=Duty.OFFICER)

    class Meta:
        verbose_name = _("网格人员配置")
        verbose_name_plural = _("网格人员配置")
        constraints = [
            models.UniqueConstraint(fields=["cell", "user"], name="gridassignment_unique_person"),
            models.UniqueConstraint(
                fields=["cell"], condition=Q(duty="leader"), name="gridassignment_one_leader_per_cell"
            ),
        ]


class Role(models.TextChoices):
    CITY_SUPERVISOR = "city_supervisor", _("市级监管")
    DISTRICT_SUPERVISOR = "district_supervisor", _("区县监管")
    TOWNSHIP_SUPERVISOR = "township_supervisor", _("乡镇街道监管")
    GRID_OFFICER = "grid_officer", _("网格员")
    ZONING_PLANNER = "zoning_planner", _("分区管控规划员")
    RESPONSIBLE_UNIT = "responsible_unit", _("整改责任单位")
    IMAGERY_ANALYST = "imagery_analyst", _("遥感分析员")
    ENTERPRISE_CONTACT = "enterprise_contact", _("企业环保联络员")


class Organization(models.Model):
    """A department, enterprise or street office that can be made responsible for a fix."""

    class Kind(models.TextChoices):
        DEPARTMENT = "department", _("职能部门")
        ENTERPRISE = "enterprise", _("企业")
        STREET_OFFICE = "street_office", _("街道办事处")

    name = models.CharField(_("名称"), max_length=128, unique=True)
    kind = models.CharField(_("类型"), max_length=16, choices=Kind.choices)
    area = models.ForeignKey(
        AdminArea, verbose_name=_("所在区域"), on_delete=models.PROTECT, related_name="organizations"
    )
    synthetic = models.BooleanField(_("合成数据"), default=False)

    class Meta:
        verbose_name = _("责任单位")
        verbose_name_plural = _("责任单位")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class User(AbstractUser):
    """A person using GridGov; the public is the anonymous user and has no row here."""

    role = models.CharField(_("角色"), max_length=32, choices=Role.choices, blank=True)
    phone = models.CharField(_("电话"), max_length=32, blank=True)
    scope = models.ManyToManyField(
        AdminArea,
        verbose_name=_("管辖范围"),
        blank=True,
        related_name="+",
        help_text=_("用户可见的行政区；包含其下级区域"),
    )
    organization = models.ForeignKey(
        Organization,
        verbose_name=_("所属单位"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="members",
    )

    class Meta(AbstractUser.Meta):
        verbose_name = _("用户")
        verbose_name_plural = _("用户")

    @property
    def display_name(self) -> str:
        return self.get_full_name() or self.username


class DemoLoad(models.Model):
    """Which demo datasets are loaded, with the parameters they were built with (idempotency)."""

    name = models.CharField(max_length=64, unique=True)
    params = models.JSONField(default=dict)
    loaded_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("演示数据加载记录")
        verbose_name_plural = _("演示数据加载记录")


class AuditRecord(models.Model):
    """The fields of an app's audit trail (who did what, when, with what data): append-only by
    trigger and settings.GRIDGOV_APPEND_ONLY_TABLES, not bound to its subject by a foreign key, so
    that the history outlives the record. Subclasses add the subject's id and code."""

    action = models.CharField(_("操作"), max_length=32)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        null=True,
        on_delete=models.DO_NOTHING,
        related_name="+",
        db_constraint=False,
    )
    at = models.DateTimeField(_("时间"), auto_now_add=True)
    data = models.JSONField(_("内容"), default=dict)

    class Meta:
        abstract = True
        ordering = ["at", "id"]
