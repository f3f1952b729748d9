"""The zoning layers as OGC collections: control units and the ecological red line.

三线一单 results are published planning data, so both collections are public; who changed a
unit (`updated_by`) is for signed-in accounts, as the version history is. `datetime` reads the
immutable version history (zoning_zoningversion): for an instant, each unit as it was then; for
an interval, each unit valid at some moment of it, in its latest version within it.
Registered by ZoningConfig.ready().
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from gridgov.ogc.registry import Collection, Field, History, StyleLayer

from .models import Category, Layer

# The colours of the three categories, as the dashboard draws them: green / red / yellow.
CATEGORY_COLOURS = {Category.PRIORITY: "#2b8a3e", Category.KEY: "#c92a2a", Category.GENERAL: "#e6b800"}
RED_LINE_COLOUR = "#d6336c"

_USER_NAME = "COALESCE(NULLIF(BTRIM(u.first_name || ' ' || u.last_name), ''), u.username)"
# One unit per code, its latest version valid within [dt_start, dt_end].
_VERSIONS = """
    (SELECT DISTINCT ON (v.code) v.id, v.code, v.name, v.layer, {extra}, v.version,
            COALESCE((v.attributes->>'synthetic')::boolean, false) AS synthetic, v.geom,
            v.valid_from, v.author_name AS updated_by
       FROM zoning_zoningversion v
      WHERE v.layer = '{layer}' AND v.action <> 'delete'
        AND v.valid_from <= %(dt_end)s AND (v.valid_to IS NULL OR v.valid_to > %(dt_start)s)
      ORDER BY v.code, v.version DESC) t
"""
_LIVE = """
    (SELECT z.id, z.code, z.name, {layer} AS layer, {extra}, z.version, z.synthetic, z.geom,
            z.updated_at AS valid_from, {user} AS updated_by
       FROM {table} z LEFT JOIN gridgov_user u ON u.id = z.updated_by_id) t
"""
_FIRST = "SELECT min(valid_from) FROM zoning_zoningversion WHERE layer = '{layer}'"


def _common(*, tile_version: bool) -> tuple[Field, ...]:
    return (
        Field("version", "t.version", "integer", _("版本"), tile=tile_version),
        Field("synthetic", "t.synthetic", "boolean", _("合成数据")),
        Field("valid_from", "t.valid_from", "date-time", _("生效时间"), tile=False),
        Field("updated_by", "t.updated_by", "string", _("更新人"), public=False, tile=False),
    )


CONTROL_UNITS = Collection(
    id="control-units",
    title=_("环境管控单元"),
    description=_("三线一单环境管控单元（演示数据为合成）"),
    source=_LIVE.format(layer="'control_unit'", extra="z.category", user=_USER_NAME, table="zoning_controlunit"),
    tile_source="zoning_controlunit t",
    id_title=_("单元编码"),
    fields=(
        Field("code", "t.code", "string", _("单元编码")),
        Field("name", "t.name", "string", _("名称")),
        Field("category", "t.category", "string", _("管控类别"), enum=tuple(Category.values)),
        # ZH + the 6-digit county code + category digit + sequence.
        Field("district", "substr(t.code, 3, 6)", "string", _("区县代码"), tile=False),
        *_common(tile_version=True),
    ),
    history=History(
        source=_VERSIONS.format(layer=Layer.CONTROL_UNIT.value, extra="NULLIF(v.category, '') AS category"),
        first_moment_sql=_FIRST.format(layer=Layer.CONTROL_UNIT.value),
    ),
    datetime_field="valid_from",
    style=tuple(
        StyleLayer(
            "fill",
            {"fill-color": colour, "fill-opacity": 0.35, "fill-outline-color": colour},
            filter=["==", ["get", "category"], category.value],
            suffix=f"-{category.value}",
        )
        for category, colour in CATEGORY_COLOURS.items()
    )
    + (StyleLayer("line", {"line-color": "#495057", "line-width": 0.8}, suffix="-outline"),),
    order=10,
)

RED_LINE = Collection(
    id="red-line",
    title=_("生态保护红线"),
    description=_("生态保护红线（演示数据为合成）"),
    source=_LIVE.format(layer="z.layer", extra="z.subtype", user=_USER_NAME, table="zoning_zone"),
    tile_source="zoning_zone t",
    where=f"t.layer = '{Layer.RED_LINE.value}'",
    id_title=_("编码"),
    fields=(
        Field("code", "t.code", "string", _("编码")),
        Field("name", "t.name", "string", _("名称")),
        Field("subtype", "t.subtype", "string", _("子类")),
        *_common(tile_version=False),
    ),
    history=History(
        source=_VERSIONS.format(layer=Layer.RED_LINE.value, extra="COALESCE(v.attributes->>'subtype', '') AS subtype"),
        first_moment_sql=_FIRST.format(layer=Layer.RED_LINE.value),
    ),
    datetime_field="valid_from",
    style=(
        StyleLayer("fill", {"fill-color": RED_LINE_COLOUR, "fill-opacity": 0.3}),
        StyleLayer("line", {"line-color": RED_LINE_COLOUR, "line-width": 1.2}),
    ),
    order=20,
)
