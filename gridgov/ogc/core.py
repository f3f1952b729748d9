"""The grid core's collections: supervision grid cells and administrative areas (public).

The public sees boundaries and grid outlines (as on the street-side 网格公示牌); both tables
are the storage SRID, so the fields read the columns directly. Registered by GridgovConfig.ready().
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from .registry import Collection, Field, StyleLayer

GRID_CELLS = Collection(
    id="grid-cells",
    title=_("网格"),
    description=_("网格化监管单元网格（合成）"),
    source="gridgov_gridcell t",
    id_title=_("网格编码"),
    fields=(
        Field("code", "t.code", "string", _("网格编码")),
        Field("name", "t.name", "string", _("名称"), tile=False),
        Field("level", "t.level", "integer", _("网格等级")),
        # The first 9 digits of a cell code are its township's code (GB/T 30428).
        Field("township", "substr(t.code, 1, 9)", "string", _("乡镇街道代码"), tile=False),
        Field("synthetic", "t.synthetic", "boolean", _("合成数据")),
    ),
    style=(
        StyleLayer("fill", {"fill-color": "#c77d1a", "fill-opacity": 0.04}),
        StyleLayer("line", {"line-color": "#c77d1a", "line-width": 0.8}),
    ),
    min_zoom=11,
    order=30,
    tile_geometry_merc="t.geom_merc",  # gridgov migration 0004
)

ADMIN_AREAS = Collection(
    id="admin-areas",
    title=_("行政区"),
    description=_("市、区县、乡镇街道（区县边界为真实数据，乡镇为合成）"),
    source="gridgov_adminarea t LEFT JOIN gridgov_adminarea p ON p.id = t.parent_id",
    tile_source="gridgov_adminarea t",
    id_title=_("行政区划代码"),
    fields=(
        Field("code", "t.code", "string", _("行政区划代码")),
        Field("name", "t.name", "string", _("名称")),
        Field("level", "t.level", "string", _("级别"), enum=("city", "district", "township")),
        Field("parent", "p.code", "string", _("上级代码"), tile=False),
        Field("synthetic", "t.synthetic", "boolean", _("合成数据")),
    ),
    # Townships only once they are big enough on screen to read.
    tile_where="t.level <> 'township' OR %(z)s >= 9",
    style=(
        StyleLayer(
            "line",
            {"line-color": "#1f5fa8", "line-width": 2},
            filter=["==", ["get", "level"], "district"],
            suffix="-district",
        ),
        StyleLayer(
            "line",
            {"line-color": "#6a8caf", "line-width": 1, "line-dasharray": [4, 3]},
            filter=["==", ["get", "level"], "township"],
            suffix="-township",
            minzoom=9,
        ),
    ),
    order=40,
)
