"""The import's checks, on whole columns: attributes and access lists here, geometry in the child.

Every feature is checked with lists and numpy (no per-row ORM): code (format, district,
duplicates), category (from the code, and the file's text agreeing with it), name, access list.
The geometry checks (polygon type, validity with the repair offered, inside the city, no
overlap inside the file) ran in the child that read the file (zoning/import_geometry.py); here
their findings get the features' codes and words. The result holds the per-feature errors and
the features ready to stage (zoning/import_stage.py checks them against the stored units).
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field

import numpy as np
from django.conf import settings
from django.db import connection
from django.utils.translation import gettext as _

from gridgov.errors import InvalidInput

from . import rules
from .exports import DIMENSION_FIELDS
from .import_geometry import GeometryReport
from .models import DIGIT_CATEGORY, UNIT_CODE_RE, Category
from .vector_read import UnitsData

# Field names of delivered 三线一单 shapefiles (first), or our own plain names.
FIELD_CODE = ("HJZHGKDYBM", "code")
FIELD_NAME = ("HJZHGKDYMC", "name")
FIELD_CATEGORY = ("ZHGKDYFL", "category")
CATEGORY_WORDS = [("优先", Category.PRIORITY), ("重点", Category.KEY), ("一般", Category.GENERAL)]
_CODE_RE = re.compile(UNIT_CODE_RE)
_CATEGORY_VALUES = frozenset(Category.values)


@dataclass
class Checked:
    """The file after the checks: errors, and the features that can be staged (`idx`)."""

    n: int
    codes: list[str]
    names: list[str]
    categories: list[str]
    district_codes: list[str | None]
    access_jsonb: list[bytes]  # jsonb's binary wire format, per feature
    idx: np.ndarray  # the features whose geometry passed (others have an error)
    wkbs: list[bytes]  # staging WKB (2D MultiPolygon) of the features in idx
    extent: list[float]  # of the staged features
    code_ok: list[bool]
    construction_bans: int  # access-list items proposed as forbidding construction
    errors: list[dict] = field(default_factory=list)

    def error(self, i: int, code: str, fld: str, message: str, **extra) -> None:
        self.errors.append({"feature": i + 1, "code": code or None, "field": fld, "message": message, **extra})


def check_features(units: UnitsData, *, districts: dict[str, int]) -> Checked:
    """Run the attribute checks, and word the geometry checks, of `units` (districts: code → id)."""
    n = units.n
    codes_f, names_f, cats_f = (_column(units.fields, f) for f in (FIELD_CODE, FIELD_NAME, FIELD_CATEGORY))
    if codes_f is None:
        raise InvalidInput(_("文件缺少单元编码字段（HJZHGKDYBM 或 code）。"), code="missing_code_field", field="file")
    if names_f is None:
        raise InvalidInput(_("文件缺少单元名称字段（HJZHGKDYMC 或 name）。"), code="missing_name_field", field="file")
    codes, names = _texts(codes_f), _texts(names_f)
    report = units.geometry
    checked = Checked(
        n=n,
        codes=codes,
        names=names,
        categories=[],
        district_codes=[c[2:8] if c[2:8] in districts else None for c in codes],
        access_jsonb=[],
        idx=np.asarray(report.idx, dtype=np.intp),
        wkbs=report.wkbs,
        extent=report.extent,
        code_ok=[_CODE_RE.match(c) is not None for c in codes],
        construction_bans=0,
    )
    _check_codes(checked, counties={settings.GRIDGOV_CITY_CODE, *districts})
    _check_categories(checked, None if cats_f is None else _texts(cats_f))
    for i in (i for i, name in enumerate(names) if not name):
        checked.error(i, codes[i], "HJZHGKDYMC", _("第 %(n)s 个要素 %(code)s：缺少单元名称。") % _at(i, codes[i]))
    _access_lists(checked, units.fields)
    _geometry_errors(checked, report)
    # Attribute errors first for each feature (code, category, name, geometry): the sort is stable.
    checked.errors.sort(key=lambda e: e["feature"])
    return checked


def city_boundary_wkb() -> bytes:
    """The city's boundary as WKB, for the geometry checks in the child."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT ST_AsBinary(geom) FROM gridgov_adminarea WHERE code = %s LIMIT 1", [settings.GRIDGOV_CITY_CODE]
        )
        row = cursor.fetchone()
    if row is None:
        raise InvalidInput(_("未加载市域边界，无法校验范围。"), code="city_missing", field="file")
    return bytes(row[0])


def _at(i: int, code: str, **more) -> dict:
    return {"n": i + 1, "code": code, **more}


def _column(fields: dict, names: tuple[str, ...]) -> np.ndarray | None:
    lower = {k.lower(): k for k in fields}
    for name in names:
        if name.lower() in lower:
            return fields[lower[name.lower()]]
    return None


def _text(value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value).strip()


def _texts(values: np.ndarray) -> list[str]:
    """`_text` of every value of a column; strings (the usual case) take the short way."""
    if values.dtype == object:
        return [v.strip() if type(v) is str else _text(v) for v in values]
    return [_text(v) for v in values.tolist()]


def _check_codes(checked: Checked, *, counties: set[str]) -> None:
    seen: dict[str, int] = {}
    has_duplicates = len(set(checked.codes)) < checked.n
    for i, code in enumerate(checked.codes):
        if not checked.code_ok[i]:
            checked.error(
                i,
                code,
                "HJZHGKDYBM",
                _("第 %(n)s 个要素：单元编码“%(code)s”格式错误（ZH + 6 位区县代码 + 类别码 + 4 位序号）。")
                % _at(i, code),
            )
            continue
        if has_duplicates:
            if code in seen:
                checked.error(
                    i,
                    code,
                    "HJZHGKDYBM",
                    _("第 %(n)s 个要素：编码 %(code)s 与第 %(first)s 个要素重复。")
                    % _at(i, code, first=seen[code] + 1),
                )
            seen.setdefault(code, i)
        if code[2:8] not in counties:
            checked.error(
                i,
                code,
                "HJZHGKDYBM",
                _("第 %(n)s 个要素 %(code)s：区县代码 %(county)s 不是本市的区县。") % _at(i, code, county=code[2:8]),
            )


def _category_of_text(text: str) -> str | None:
    if text in _CATEGORY_VALUES:
        return text
    for word, category in CATEGORY_WORDS:
        if word in text:
            return category
    return None


def _check_categories(checked: Checked, given: list[str] | None) -> None:
    """The category comes from the code's digit; the file's category text must agree with it."""
    by_digit = {digit: str(category.value) for digit, category in DIGIT_CATEGORY.items()}
    codes = checked.codes
    checked.categories = [by_digit[c[8]] if ok else "general" for c, ok in zip(codes, checked.code_ok, strict=True)]
    if given is None:
        return
    parsed = {t: _category_of_text(t) for t in set(given) if t}
    for i, text in enumerate(given):
        if not text:
            continue
        if parsed[text] is None:
            checked.error(
                i,
                codes[i],
                "ZHGKDYFL",
                _("第 %(n)s 个要素 %(code)s：无法识别的管控类别“%(text)s”。") % _at(i, codes[i], text=text),
            )
        elif checked.code_ok[i] and parsed[text] != checked.categories[i]:
            checked.error(
                i,
                codes[i],
                "ZHGKDYFL",
                _("第 %(n)s 个要素 %(code)s：管控类别“%(text)s”与编码中的类别码不符。") % _at(i, codes[i], text=text),
            )


def _access_lists(checked: Checked, fields: dict) -> None:
    """Each feature's access list in jsonb's binary wire format (version byte 1, then the JSON).

    One item per non-empty line of each dimension field; the construction-ban flag proposed
    from the wording (zoning.rules), for the planner to confirm. Deliveries repeat the same
    texts across many units, so each distinct combination is built once.
    """
    columns = {dim: _column(fields, (name, dim.value)) for name, dim in DIMENSION_FIELDS.items()}
    dims = [dim.value for dim, values in columns.items() if values is not None]
    texts = [_texts(values) for values in columns.values() if values is not None]
    known: dict[tuple, tuple[bytes, int]] = {}
    for row in zip(*texts, strict=True) if texts else [()] * checked.n:
        built = known.get(row)
        if built is None:
            items = _access_items(dims, row)
            bans = sum(1 for item in items if item.get("forbids_construction"))
            built = known[row] = (b"\x01" + json.dumps(items, ensure_ascii=False).encode(), bans)
        checked.access_jsonb.append(built[0])
        checked.construction_bans += built[1]


def _access_items(dims: list[str], texts: tuple[str, ...]) -> list[dict]:
    items = []
    for dim, text in zip(dims, texts, strict=True):
        lines = re.split(r"[\r\n]+", text) if ("\n" in text or "\r" in text) else (text,)
        for line in lines:
            line = line.strip()[:4000]
            if line:
                ban = rules.suggests_construction_ban(dim, line)
                items.append(rules.access_item(dim, line, forbids_construction=ban))
    return items


def _geometry_errors(checked: Checked, report: GeometryReport) -> None:
    codes = checked.codes
    for i, kind, d in report.problems:
        code = codes[i]
        if kind == "not_polygon":
            message = _("第 %(n)s 个要素 %(code)s：几何类型 %(type)s 不是面（Polygon/MultiPolygon）。") % _at(
                i, code, type=d["type"] or _("空")
            )
            checked.error(i, code, "geometry", message)
        elif kind == "invalid":
            message = _("第 %(n)s 个要素 %(code)s：几何无效（%(reason)s）。") % _at(i, code, reason=d["reason"])
            checked.error(i, code, "geometry", message, **d)
        elif kind == "outside":
            message = _("第 %(n)s 个要素 %(code)s：超出市域 %(area).0f 平方米。") % _at(
                i, code, area=d["outside_area_m2"]
            )
            checked.error(i, code, "geometry", message, **d)
        else:  # overlap with another feature of the file
            other = d["other"]
            message = _("第 %(n)s 个要素 %(code)s 与第 %(other_n)s 个要素 %(other)s 重叠 %(area).0f 平方米。") % _at(
                i, code, other_n=other + 1, other=codes[other], area=d["area_m2"]
            )
            checked.error(
                i, code, "geometry", message, overlap_with=codes[other], area_m2=d["area_m2"], overlap=d["overlap"]
            )
