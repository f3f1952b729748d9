"""三线一单 zoning: environmental control units, red-line and element zones, and their history.

Hangzhou's 生态环境分区管控 divides the city into 环境管控单元 (control units) of three categories
(优先保护 / 重点管控 / 一般管控), each with an access list (生态环境准入清单) in four dimensions.
Beside them lie the ecological red line (生态保护红线) and element zones for water, air, soil and
resource use. Units are adjusted over the years, and an old case refers to a unit as it was
then, so every create, edit and delete is kept as an immutable `ZoningVersion`: a full snapshot
with author, time and reason, valid from its creation until the next version replaces it.
The database itself refuses to change or delete a version row (trigger in migration 0002),
except for closing `valid_to` once.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.gis.db import models
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

SRID = settings.GRIDGOV_SRID

UNIT_CODE_RE = r"^ZH[0-9]{6}[123][0-9]{4}$"
unit_code_validator = RegexValidator(
    UNIT_CODE_RE, _("单元编码应为 ZH + 6 位区县代码 + 类别码（1 优先/2 重点/3 一般）+ 4 位序号，如 ZH33010610001")
)


class Layer(models.TextChoices):
    RED_LINE = "red_line", _("生态保护红线")
    CONTROL_UNIT = "control_unit", _("环境管控单元")
    WATER = "water", _("水环境分区")
    AIR = "air", _("大气环境分区")
    SOIL = "soil", _("土壤环境分区")
    RESOURCE = "resource", _("资源利用分区")


ZONE_LAYERS = [Layer.RED_LINE, Layer.WATER, Layer.AIR, Layer.SOIL, Layer.RESOURCE]


class Category(models.TextChoices):
    PRIORITY = "priority", _("优先保护单元")
    KEY = "key", _("重点管控单元")
    GENERAL = "general", _("一般管控单元")


# The category digit inside a unit code.
CATEGORY_DIGIT = {Category.PRIORITY: "1", Category.KEY: "2", Category.GENERAL: "3"}
DIGIT_CATEGORY = {v: k for k, v in CATEGORY_DIGIT.items()}


class Dimension(models.TextChoices):
    """The four dimensions of an access list."""

    SPATIAL = "spatial", _("空间布局约束")
    POLLUTION = "pollution", _("污染物排放管控")
    RISK = "risk", _("环境风险防控")
    RESOURCE = "resource", _("资源开发效率要求")


ACCESS_ITEM_KEYS = frozenset({"dimension", "text", "forbids_construction"})


def validate_access_list(value: object) -> None:
    """An access list is a list of items {"dimension", "text"[, "forbids_construction": true]}.

    `dimension` is one of `Dimension`, `text` 1–4000 characters. `forbids_construction` marks
    an item that forbids building (zoning/rules.py reads it); it belongs to the spatial-layout
    dimension (空间布局约束) and is stored only when true.
    """
    if not isinstance(value, list):
        raise ValidationError(_("准入清单应为条目列表。"), code="access_list")
    for n, item in enumerate(value, start=1):
        if not isinstance(item, dict) or set(item) - ACCESS_ITEM_KEYS:
            raise ValidationError(
                _("准入清单第 %(n)s 条应只含维度、内容和是否禁止建设。"), code="access_item", params={"n": n}
            )
        if item.get("dimension") not in Dimension.values:
            raise ValidationError(
                _("准入清单第 %(n)s 条的维度无效，应为：%(choices)s。"),
                code="access_dimension",
                params={"n": n, "choices": "、".join(str(label) for label in Dimension.labels)},
            )
        text = item.get("text")
        if not isinstance(text, str) or not text.strip() or len(text) > 4000:
            raise ValidationError(
                _("准入清单第 %(n)s 条内容应为 1–4000 字的文本。"), code="access_text", params={"n": n}
            )
        flag = item.get("forbids_construction", False)
        if not isinstance(flag, bool):
            raise ValidationError(_("准入清单第 %(n)s 条的“禁止建设”应为是或否。"), code="access_flag", params={"n": n})
        if flag and item["dimension"] != Dimension.SPATIAL:
            raise ValidationError(
                _("准入清单第 %(n)s 条：只有空间布局约束的条目可以标为禁止建设。"), code="access_flag", params={"n": n}
            )


class ZoningFeature(models.Model):
    """What control units and zones share: a code, a name, a polygon, a version, an access list."""

    name = models.CharField(_("名称"), max_length=128)
    district = models.ForeignKey(
        "gridgov.AdminArea",
        verbose_name=_("所在区县"),
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        limit_choices_to={"level": "district"},
    )
    geom = models.MultiPolygonField(_("范围"), srid=SRID)
    access_list = models.JSONField(_("准入清单"), default=list, blank=True, validators=[validate_access_list])
    version = models.PositiveIntegerField(_("版本"), default=1)
    synthetic = models.BooleanField(_("合成数据"), default=False, help_text=_("演示用合成数据"))
    updated_at = models.DateTimeField(_("更新时间"))
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("更新人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,  # never queried by; the versions keep who changed what
    )

    class Meta:
        abstract = True


class ControlUnit(ZoningFeature):
    """An 环境管控单元: code `ZH` + county + category digit + sequence, e.g. ZH33010610001."""

    code = models.CharField(_("单元编码"), max_length=13, unique=True, validators=[unit_code_validator])
    # No index on category: three values, never selective; each index costs every import.
    category = models.CharField(_("管控类别"), max_length=16, choices=Category.choices)

    layer = Layer.CONTROL_UNIT

    class Meta:
        verbose_name = _("环境管控单元")
        verbose_name_plural = _("环境管控单元")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(name="controlunit_code_format", condition=Q(code__regex=UNIT_CODE_RE)),
            models.CheckConstraint(
                name="controlunit_code_matches_category",
                condition=(
                    Q(category="priority", code__regex=r"^ZH[0-9]{6}1")
                    | Q(category="key", code__regex=r"^ZH[0-9]{6}2")
                    | Q(category="general", code__regex=r"^ZH[0-9]{6}3")
                ),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    def clean(self) -> None:
        if self.code and len(self.code) == 13 and self.category and DIGIT_CATEGORY.get(self.code[8]) != self.category:
            raise ValidationError(
                {"code": ValidationError(_("单元编码的类别码与管控类别不符。"), code="category_mismatch")}
            )


class Zone(ZoningFeature):
    """A red-line area or an element zone (water, air, soil, resource use)."""

    code = models.CharField(
        _("编码"), max_length=32, unique=True, validators=[RegexValidator(r"^[A-Za-z0-9_-]{2,32}$")]
    )
    layer = models.CharField(_("图层"), max_length=16, choices=[(c.value, c.label) for c in ZONE_LAYERS], db_index=True)
    subtype = models.CharField(
        _("子类"), max_length=64, blank=True, help_text=_("如 饮用水源保护区、大气高排放重点管控区")
    )

    class Meta:
        verbose_name = _("生态红线与要素分区")
        verbose_name_plural = _("生态红线与要素分区")
        ordering = ["layer", "code"]
        constraints = [
            models.CheckConstraint(
                name="zone_layer_not_control_unit", condition=Q(layer__in=[c.value for c in ZONE_LAYERS])
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    @property
    def category(self) -> None:
        return None


class Action(models.TextChoices):
    CREATE = "create", _("新增")
    UPDATE = "update", _("修改")
    DELETE = "delete", _("删除")
    REVERT = "revert", _("回退")
    IMPORT = "import", _("导入")


class ZoningVersion(models.Model):
    """One immutable snapshot of a unit or zone, valid from `valid_from` until `valid_to`.

    A delete is a version too (its snapshot is the last state; it never covers anything).
    """

    layer = models.CharField(_("图层"), max_length=16, choices=Layer.choices)
    code = models.CharField(_("编码"), max_length=32)
    version = models.PositiveIntegerField(_("版本"))
    action = models.CharField(_("操作"), max_length=8, choices=Action.choices)
    reason = models.TextField(_("调整说明"))
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("调整人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,  # history is read by code; accounts are deactivated, not deleted
    )
    author_name = models.CharField(_("调整人姓名"), max_length=150, blank=True)
    created_at = models.DateTimeField(_("时间"))
    valid_from = models.DateTimeField(_("生效时间"))
    valid_to = models.DateTimeField(_("失效时间"), null=True, blank=True)
    name = models.CharField(_("名称"), max_length=128)
    category = models.CharField(_("管控类别"), max_length=16, choices=Category.choices, blank=True)
    geom = models.MultiPolygonField(_("范围"), srid=SRID)
    attributes = models.JSONField(_("属性快照"), default=dict)

    class Meta:
        verbose_name = _("分区版本")
        verbose_name_plural = _("分区版本")
        ordering = ["layer", "code", "version"]
        constraints = [
            models.UniqueConstraint(fields=["layer", "code", "version"], name="zoningversion_unique_version"),
            models.CheckConstraint(name="zoningversion_reason_required", condition=~Q(reason="")),
            models.CheckConstraint(
                name="zoningversion_valid_interval",
                condition=Q(valid_to__isnull=True) | Q(valid_to__gte=models.F("valid_from")),
            ),
        ]
        indexes = [models.Index(fields=["code", "version"], name="zoningversion_code_idx")]

    def __str__(self) -> str:
        return f"{self.code} v{self.version} {self.action}"


class SiteReport(models.Model):
    """A site analysis kept for its report link (智能研判报告), so that the report can be bookmarked.

    The link is `/zoning/analyze/report/?id=<token>`: a random token, not the geometry, because
    a red-line polygon does not fit in a URL (gunicorn reads request lines of up to 4 KB, about
    150 vertices) and a project's location should not end up in server logs and browser history.
    The report shows what the analysis found when it was made (`result`, unrounded, from
    `zoning.analysis.site_analyze`), in the reader's language; the same site, project name and
    zoning data give the same report again (`digest`) rather than a new row.
    """

    token = models.CharField(_("报告编号"), max_length=32, unique=True)
    digest = models.CharField(_("内容摘要"), max_length=64, db_index=True)
    created_at = models.DateTimeField(_("生成时间"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("生成人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    project = models.CharField(_("项目名称"), max_length=100, blank=True)
    site = models.GeometryField(_("选址范围"), srid=SRID)
    result = models.JSONField(_("研判结果"))

    class Meta:
        verbose_name = _("研判报告")
        verbose_name_plural = _("研判报告")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.token
