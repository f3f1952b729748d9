"""CQL2 filters (OGC 21-065, text and JSON encodings) compiled to parameterised SQL.

What is understood: basic CQL2 (comparisons, AND/OR/NOT, IS NULL, property on either side),
advanced comparisons (LIKE, BETWEEN, IN), case-insensitive comparison (CASEI), and the spatial
functions S_INTERSECTS, S_EQUALS, S_DISJOINT, S_TOUCHES, S_WITHIN, S_OVERLAPS, S_CROSSES,
S_CONTAINS over WKT, GeoJSON and BBOX literals; DATE and TIMESTAMP literals compare with
date-time properties. GDAL 3.6 names the text encoding by its draft name `cql-text`.

Safety: a property must be one of the collection's queryables the caller may see (its SQL comes
from the declaration), every literal is a bound parameter, both sides of a comparison must have
the same type (so PostgreSQL never sees `varchar = integer`), geometries are parsed and checked by
GEOS before they reach PostGIS, and the size and nesting of a filter are bounded. Any problem is
one InvalidInput on the `filter` parameter, never a 500.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass

from django.contrib.gis.geos import GEOSException, GEOSGeometry, Polygon
from django.utils.translation import gettext as _

from gridgov.dates import parse_moment
from gridgov.errors import InvalidInput

MAX_LENGTH = 20_000
MAX_DEPTH = 40
MAX_LIST = 1_000
LANGS = ("cql2-text", "cql2-json", "cql-text")

COMPARISONS = {"=": "=", "<>": "<>", "<": "<", "<=": "<=", ">": ">", ">=": ">="}
# CQL2 spatial functions → PostGIS; all but disjoint imply overlapping boxes (index prefilter).
SPATIAL = {
    "s_intersects": "ST_Intersects",
    "s_equals": "ST_Equals",
    "s_disjoint": "ST_Disjoint",
    "s_touches": "ST_Touches",
    "s_within": "ST_Within",
    "s_overlaps": "ST_Overlaps",
    "s_crosses": "ST_Crosses",
    "s_contains": "ST_Contains",
}
WKT_TYPES = (
    "POINT",
    "LINESTRING",
    "POLYGON",
    "MULTIPOINT",
    "MULTILINESTRING",
    "MULTIPOLYGON",
    "GEOMETRYCOLLECTION",
)
# The type of a field (registry.TYPES) as the compiler compares it.
KIND = {"string": "string", "integer": "number", "number": "number", "boolean": "boolean", "date-time": "timestamp"}


def _fail(problem: str, code: str = "invalid_filter") -> InvalidInput:
    return InvalidInput(_("过滤条件有误：%(problem)s") % {"problem": problem}, code=code, field="filter")


# --- the tree both encodings parse into ---------------------------------------------------------


@dataclass(frozen=True)
class Prop:
    name: str


@dataclass(frozen=True)
class Lit:
    value: object
    kind: str  # string | number | boolean | timestamp | date


@dataclass(frozen=True)
class Geom:
    geometry: GEOSGeometry


@dataclass(frozen=True)
class Op:
    op: str  # and, or, not, =, <>, <, <=, >, >=, like, between, in, isnull, casei, s_*
    args: tuple


# --- CQL2 text ------------------------------------------------------------------------------------

_TOKEN = re.compile(
    r"""\s*(?:
      (?P<string>'(?:[^']|'')*')
    | (?P<number>-?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)
    | (?P<qident>"(?:[^"]|"")+")
    | (?P<ident>[A-Za-z_][A-Za-z0-9_.:]*)
    | (?P<op><>|<=|>=|=|<|>|\(|\)|,)
    )""",
    re.VERBOSE,
)


class _Text:
    def __init__(self, text: str):
        self.text = text
        self.pos = 0
        self.depth = 0

    # tokens
    def _peek(self) -> tuple[str, str, int] | None:
        m = _TOKEN.match(self.text, self.pos)
        if m is None or m.end() == m.start():
            rest = self.text[self.pos :].strip()
            if not rest:
                return None
            raise _fail(_("第 %(pos)s 个字符处无法识别：%(text)s") % {"pos": self.pos + 1, "text": rest[:20]})
        kind = m.lastgroup
        return kind, m.group(kind), m.end()

    def peek_word(self) -> str | None:
        tok = self._peek()
        return tok[1].upper() if tok and tok[0] == "ident" else (tok[1] if tok and tok[0] == "op" else None)

    def take(self) -> tuple[str, str]:
        tok = self._peek()
        if tok is None:
            raise _fail(_("条件不完整。"))
        self.pos = tok[2]
        return tok[0], tok[1]

    def expect(self, word: str) -> None:
        kind, value = self.take()
        if value.upper() != word:
            raise _fail(_("此处应为 %(want)s，而不是 %(got)s。") % {"want": word, "got": value[:20]})

    def accept(self, word: str) -> bool:
        if self.peek_word() == word:
            self.take()
            return True
        return False

    # grammar
    def parse(self):
        node = self.boolean()
        if self._peek() is not None:
            raise _fail(_("第 %(pos)s 个字符后有多余内容。") % {"pos": self.pos})
        return node

    def boolean(self):
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise _fail(_("嵌套层数过多。"))
        terms = [self.term()]
        while self.accept("OR"):
            terms.append(self.term())
        self.depth -= 1
        return terms[0] if len(terms) == 1 else Op("or", tuple(terms))

    def term(self):
        factors = [self.factor()]
        while self.accept("AND"):
            factors.append(self.factor())
        return factors[0] if len(factors) == 1 else Op("and", tuple(factors))

    def factor(self):
        if self.accept("NOT"):
            return Op("not", (self.factor(),))
        if self.peek_word() == "(":
            self.take()
            node = self.boolean()
            self.expect(")")
            return node
        word = self.peek_word()
        if word in ("TRUE", "FALSE"):
            self.take()
            return Lit(word == "TRUE", "boolean")
        if word and word.lower() in SPATIAL:
            self.take()
            self.expect("(")
            a = self.geometry_operand()
            self.expect(",")
            b = self.geometry_operand()
            self.expect(")")
            return Op(word.lower(), (a, b))
        return self.predicate()

    def predicate(self):
        left = self.scalar()
        negate = self.accept("NOT")
        word = self.peek_word()
        if word == "LIKE":
            self.take()
            node = Op("like", (left, self.scalar()))
        elif word == "BETWEEN":
            self.take()
            low = self.scalar()
            self.expect("AND")
            node = Op("between", (left, low, self.scalar()))
        elif word == "IN":
            self.take()
            self.expect("(")
            items = [self.scalar()]
            while self.accept(","):
                items.append(self.scalar())
            self.expect(")")
            node = Op("in", (left, tuple(items)))
        elif word == "IS" and not negate:
            self.take()
            negate = self.accept("NOT")
            self.expect("NULL")
            node = Op("isnull", (left,))
        elif word in COMPARISONS and not negate:
            self.take()
            return Op(word, (left, self.scalar()))
        else:
            raise _fail(_("第 %(pos)s 个字符处应为比较运算符。") % {"pos": self.pos + 1})
        return Op("not", (node,)) if negate else node

    def scalar(self):
        kind, value = self.take()
        if kind == "string":
            return Lit(value[1:-1].replace("''", "'"), "string")
        if kind == "number":
            return Lit(float(value) if any(c in value for c in ".eE") else int(value), "number")
        if kind == "qident":
            return Prop(value[1:-1].replace('""', '"'))
        if kind == "ident":
            word = value.upper()
            if word in ("TRUE", "FALSE"):
                return Lit(word == "TRUE", "boolean")
            if word in ("DATE", "TIMESTAMP", "CASEI"):
                self.expect("(")
                inner = self.scalar()
                self.expect(")")
                if word == "CASEI":
                    return Op("casei", (inner,))
                if not isinstance(inner, Lit) or inner.kind != "string":
                    raise _fail(_("%(fn)s 的参数应为带引号的日期文本。") % {"fn": word})
                return Lit(inner.value, word.lower())
            return Prop(value)
        raise _fail(_("此处应为属性名或取值，而不是 %(got)s。") % {"got": value})

    def geometry_operand(self):
        word = self.peek_word()
        if word == "BBOX":
            self.take()
            self.expect("(")
            numbers = [self.scalar()]
            while self.accept(","):
                numbers.append(self.scalar())
            self.expect(")")
            return _bbox([n.value if isinstance(n, Lit) else None for n in numbers])
        if word in WKT_TYPES:
            start = self.pos
            self.take()
            level, i = 0, self.pos
            while i < len(self.text):  # the WKT runs to its closing parenthesis (or to , ) for EMPTY)
                ch = self.text[i]
                if ch in ",)" and level == 0:
                    break
                level += (ch == "(") - (ch == ")")
                i += 1
                if ch == ")" and level == 0:
                    break
            self.pos = i
            return Geom(_geos(self.text[start:i].strip()))
        return self.scalar()


# --- CQL2 JSON ------------------------------------------------------------------------------------

_JSON_OPS = {"and", "or", "not", "like", "between", "in", "isnull", "casei", *COMPARISONS, *SPATIAL}


def _from_json(node, depth: int = 0):
    if depth > MAX_DEPTH:
        raise _fail(_("嵌套层数过多。"))
    if isinstance(node, bool):
        return Lit(node, "boolean")
    if isinstance(node, int | float):
        return Lit(node, "number")
    if isinstance(node, str):
        return Lit(node, "string")
    if not isinstance(node, dict):
        raise _fail(_("无法识别的 JSON 节点。"))
    if "property" in node:
        return Prop(str(node["property"]))
    if "timestamp" in node or "date" in node:
        kind = "timestamp" if "timestamp" in node else "date"
        return Lit(str(node[kind]), kind)
    if "bbox" in node:
        return _bbox(node["bbox"])
    if "type" in node and "coordinates" in node or node.get("type") == "GeometryCollection":
        return Geom(_geos(json.dumps(node)))
    op = str(node.get("op", "")).lower()
    args = node.get("args")
    if op not in _JSON_OPS or not isinstance(args, list):
        raise _fail(_("不支持的运算 %(op)s。") % {"op": str(node.get("op"))[:30]}, code="unsupported_filter")
    if op == "in":
        if len(args) != 2 or not isinstance(args[1], list):
            raise _fail(_("in 的参数应为一个属性和一个取值列表。"))
        return Op("in", (_from_json(args[0], depth + 1), tuple(_from_json(a, depth + 1) for a in args[1])))
    return Op(op, tuple(_from_json(a, depth + 1) for a in args))


# --- geometry literals ------------------------------------------------------------------------------


def _bbox(values) -> Geom:
    if not isinstance(values, list | tuple) or len(values) not in (4, 6):
        raise _fail(_("BBOX 应有 4 个（或 6 个）数字。"))
    if any(isinstance(v, bool) or not isinstance(v, int | float) for v in values):
        raise _fail(_("BBOX 应由数字组成。"))
    x0, y0, x1, y1 = (values[0], values[1], values[2], values[3]) if len(values) == 4 else (*values[:2], *values[3:5])
    return Geom(Polygon.from_bbox((x0, y0, x1, y1)))


def _geos(text: str) -> GEOSGeometry:
    try:
        geom = GEOSGeometry(text)
    except (GEOSException, ValueError, TypeError) as exc:
        raise _fail(_("几何对象无法解析。")) from exc
    if geom.num_coords > 100_000:
        raise _fail(_("几何对象的顶点过多。"))
    if not geom.valid:
        raise _fail(_("几何对象无效（%(reason)s）。") % {"reason": geom.valid_reason})
    return geom


# --- parsing entry point ---------------------------------------------------------------------------


def parse(text: str, lang: str | None):
    """Parse a filter in `lang` (cql2-text by default) into the tree above."""
    lang = (lang or "cql2-text").lower()
    if lang not in LANGS:
        raise InvalidInput(
            _("过滤语言应为 cql2-text 或 cql2-json。"), code="unsupported_filter_lang", field="filter-lang"
        )
    if len(text) > MAX_LENGTH:
        raise _fail(_("条件过长（最多 %(n)s 个字符）。") % {"n": MAX_LENGTH})
    if lang == "cql2-json":
        try:
            doc = json.loads(text)
        except ValueError as exc:
            raise _fail(_("不是有效的 JSON。")) from exc
        return _from_json(doc)
    return _Text(text).parse()


# --- compiling to SQL ---------------------------------------------------------------------------------


@dataclass
class Compiled:
    sql: str
    params: dict


class _Compiler:
    def __init__(self, resolve: Callable[[str], tuple[str, str] | None], geometry_sql: str, flip_axes: bool, srid: int):
        self.resolve = resolve  # queryable name → (SQL, field type) or None
        self.geometry_sql = geometry_sql
        self.flip_axes = flip_axes
        self.srid = srid
        self.params: dict = {}

    def bind(self, value, cast: str = "") -> str:
        name = f"f{len(self.params)}"
        self.params[name] = value
        return f"%({name})s{cast}"

    def boolean(self, node) -> str:
        if isinstance(node, Lit) and node.kind == "boolean":
            return "TRUE" if node.value else "FALSE"
        if not isinstance(node, Op):
            raise _fail(_("条件应为比较或逻辑表达式。"))
        op, args = node.op, node.args
        if op in ("and", "or"):
            if len(args) < 2:
                raise _fail(_("%(op)s 至少需要两个条件。") % {"op": op})
            return "(" + f" {op.upper()} ".join(self.boolean(a) for a in args) + ")"
        if op == "not":
            self._arity(node, 1)
            return f"(NOT {self.boolean(args[0])})"
        if op in COMPARISONS:
            self._arity(node, 2)
            (a, ka), (b, kb) = self.scalar(args[0]), self.scalar(args[1])
            a, b = self._same(ka, kb, a, b, op)
            return f"({a} {COMPARISONS[op]} {b})"
        if op == "like":
            self._arity(node, 2)
            (a, ka), (b, kb) = self.scalar(args[0]), self.scalar(args[1])
            if ka != "string" or kb != "string":
                raise _fail(_("LIKE 只能用于文本。"), code="filter_type_mismatch")
            return f"({a} LIKE {b})"
        if op == "between":
            self._arity(node, 3)
            (a, ka), (lo, kl), (hi, kh) = (self.scalar(x) for x in args)
            a, lo = self._same(ka, kl, a, lo, "between")
            a, hi = self._same(ka, kh, a, hi, "between")
            return f"({a} BETWEEN {lo} AND {hi})"
        if op == "in":
            self._arity(node, 2)
            a, ka = self.scalar(args[0])
            items = args[1] if isinstance(args[1], tuple) else (args[1],)
            if not items or len(items) > MAX_LIST:
                raise _fail(_("IN 列表应有 1 到 %(n)s 个取值。") % {"n": MAX_LIST})
            values = []
            for item in items:
                b, kb = self.scalar(item)
                a, b = self._same(ka, kb, a, b, "in")
                values.append(b)
            return f"({a} IN ({', '.join(values)}))"
        if op == "isnull":
            self._arity(node, 1)
            return f"({self.scalar(args[0])[0]} IS NULL)"
        if op in SPATIAL:
            self._arity(node, 2)
            a, b = (self.geometry(x) for x in args)
            test = f"{SPATIAL[op]}({a}, {b})"
            return f"({test})" if op == "s_disjoint" else f"({a} && {b} AND {test})"
        raise _fail(_("%(op)s 不能作为条件。") % {"op": op}, code="unsupported_filter")

    def _arity(self, node: Op, n: int) -> None:
        if len(node.args) != n:
            raise _fail(_("%(op)s 应有 %(n)s 个参数。") % {"op": node.op, "n": n})

    def _same(self, ka: str, kb: str, a: str, b: str, op: str) -> tuple[str, str]:
        if {ka, kb} == {"timestamp", "date"}:  # compare a date with the local day of a date-time
            to_day = "((%s) AT TIME ZONE 'Asia/Shanghai')::date"
            return (to_day % a if ka == "timestamp" else a), (to_day % b if kb == "timestamp" else b)
        if ka != kb:
            kinds = {
                "string": _("文本"),
                "number": _("数字"),
                "boolean": _("布尔值"),
                "timestamp": _("时间"),
                "date": _("日期"),
            }
            raise _fail(
                _("%(op)s 两侧类型不一致（%(a)s 与 %(b)s）。") % {"op": op, "a": kinds[ka], "b": kinds[kb]},
                code="filter_type_mismatch",
            )
        return a, b

    def scalar(self, node) -> tuple[str, str]:
        if isinstance(node, Prop):
            found = self.resolve(node.name)
            if found is None:
                raise _fail(
                    _("属性 “%(name)s” 不可查询（见 queryables）。") % {"name": node.name[:40]}, "unknown_queryable"
                )
            sql, kind = found
            return sql, KIND[kind]
        if isinstance(node, Lit):
            if node.kind == "string":
                return self.bind(str(node.value), "::text"), "string"
            if node.kind == "number":
                if isinstance(node.value, bool) or not math.isfinite(node.value):
                    raise _fail(_("应为数字。"))
                return self.bind(node.value, "::numeric" if isinstance(node.value, float) else ""), "number"
            if node.kind == "boolean":
                return ("TRUE" if node.value else "FALSE"), "boolean"
            if node.kind in ("timestamp", "date"):
                when, bare = parse_moment(str(node.value), field="filter")
                if node.kind == "date":
                    return self.bind(when.date(), "::date"), "date"
                return self.bind(when, "::timestamptz"), "timestamp"
        if isinstance(node, Op) and node.op == "casei":
            self._arity(node, 1)
            inner, kind = self.scalar(node.args[0])
            if kind != "string":
                raise _fail(_("CASEI 只能用于文本。"), code="filter_type_mismatch")
            return f"lower({inner})", "string"
        raise _fail(_("此处应为属性或取值。"))

    def geometry(self, node) -> str:
        if isinstance(node, Prop):
            if node.name not in ("geometry", "geom"):
                raise _fail(_("空间函数的属性应为 geometry。"), code="unknown_queryable")
            return self.geometry_sql
        if isinstance(node, Geom):
            literal = f"ST_GeomFromEWKT({self.bind(f'SRID={self.srid};{node.geometry.wkt}')})"
            if self.flip_axes:
                literal = f"ST_FlipCoordinates({literal})"
            return literal if self.srid == 4326 else f"ST_Transform({literal}, 4326)"
        raise _fail(_("空间函数的参数应为 geometry 或几何对象。"))


def compile_filter(
    tree,
    *,
    resolve: Callable[[str], tuple[str, str] | None],
    geometry_sql: str,
    flip_axes: bool = False,
    srid: int = 4326,
) -> Compiled:
    """SQL (with %(fN)s placeholders) and its parameters for a parsed filter."""
    compiler = _Compiler(resolve, geometry_sql, flip_axes, srid)
    return Compiled(compiler.boolean(tree), compiler.params)
