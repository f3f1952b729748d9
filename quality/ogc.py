"""The quality stations as an OGC collection (and vector-tile layer): public fields only.

Where the air stations and water sections are, what they are and the sections' target classes
are published information (环境质量信息公开); the data logger behind a station (MN, password)
is not, and is not a field here. Registered by QualityConfig.ready().
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from gridgov.ogc.registry import Collection, Field, StyleLayer

from .models import StationKind
from .water import TARGETS

KIND_COLOURS = {StationKind.AIR: "#0b7285", StationKind.WATER: "#1c7ed6"}

STATIONS = Collection(
    id="quality-stations",
    title=_("环境质量监测站点"),
    description=_("空气质量监测站和地表水水质监测断面（演示数据为合成）"),
    source=(
        "(SELECT s.code, s.name, s.kind, s.target_class, s.water_body, s.synthetic, l.point AS geom,"
        " d.code AS district, tw.code AS township"
        " FROM quality_station s JOIN monitoring_logger l ON l.id = s.logger_id"
        " LEFT JOIN gridgov_adminarea d ON d.id = l.district_id"
        " LEFT JOIN gridgov_adminarea tw ON tw.id = l.township_id) t"
    ),
    geometry_type="Point",
    id_title=_("站点编码"),
    fields=(
        Field("code", "t.code", "string", _("站点编码")),
        Field("name", "t.name", "string", _("站点名称")),
        Field("kind", "t.kind", "string", _("站点类型"), enum=tuple(StationKind.values)),
        Field("target_class", "NULLIF(t.target_class, '')", "string", _("水质目标"), enum=TARGETS),
        Field("water_body", "NULLIF(t.water_body, '')", "string", _("水体类型"), enum=("river", "lake"), tile=False),
        Field("district", "t.district", "string", _("区县代码"), tile=False),
        Field("township", "t.township", "string", _("乡镇街道代码"), tile=False),
        Field("synthetic", "t.synthetic", "boolean", _("合成数据")),
    ),
    style=tuple(
        StyleLayer(
            "circle",
            {"circle-color": colour, "circle-radius": 5, "circle-stroke-color": "#ffffff", "circle-stroke-width": 1},
            filter=["==", ["get", "kind"], kind.value],
            suffix=f"-{kind.value}",
        )
        for kind, colour in KIND_COLOURS.items()
    ),
    order=60,
)
