"""The collections of the OGC API: one declaration each, registered by the app that owns the data.

A collection says where its rows come from (`source`: a FROM clause whose rows are aliased
`t`), which fields it has, and optionally how `datetime` reads its history (`history`: the
same columns as of a moment or interval) and how its tiles look. Every value a client sends is
bound as a parameter; the SQL text here comes only from these declarations.

Who sees what (the one access table, reliability/access.py): a collection with `scope=None`
is public planning or grid data — everyone sees every row; its fields with `public=False` are
shown to signed-in accounts only (the `auth_hidden` rule: who changed a unit). A collection
with `scope` set is for signed-in accounts, each seeing the rows of their jurisdiction; to the
public it does not exist (404, unlisted), exactly like an unknown collection.

To add a collection (an app's `ready()`):

    register(Collection(
        id="stations", title=_("监测站点"), description=_("…"),
        source="monitoring_station t", geometry="t.geom", id_sql="t.code",
        fields=(Field("code", "t.code", "string", _("站点编码")),
                Field("name", "t.name", "string", _("名称")), …),
        style=(StyleLayer("circle", {"circle-color": "#1565c0", "circle-radius": 4}),),
    ))
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils.functional import Promise

from gridgov import tiles
from gridgov.jurisdiction import Scope

from . import query

# JSON-schema types of fields, and the PostgreSQL comparison each maps to in filters.
TYPES = ("string", "integer", "number", "boolean", "date-time")


@dataclass(frozen=True)
class Field:
    """A property of the features: its API name, its SQL over `t`, its type and its label."""

    name: str
    sql: str
    type: str
    title: str | Promise
    public: bool = True  # False: signed-in accounts only
    enum: tuple[str, ...] | None = None
    tile: bool = True  # carried in the vector tiles (public fields only)

    def __post_init__(self) -> None:
        if self.type not in TYPES:
            raise ValueError(f"field {self.name}: type {self.type!r} not in {TYPES}")


@dataclass(frozen=True)
class ScopeColumns:
    """The jurisdiction columns of a scoped collection (admin-area ids, as `Scope` holds them)."""

    district: str | None = None
    township: str | None = None

    def sql(self, scope: Scope) -> tuple[str, dict]:
        if scope.everything:
            return "TRUE", {}
        parts, params = [], {}
        if self.district:
            parts.append(f"{self.district} = ANY(%(scope_d)s)")
            params["scope_d"] = sorted(scope.district_ids)
        if self.township:
            parts.append(f"{self.township} = ANY(%(scope_t)s)")
            params["scope_t"] = sorted(scope.township_ids)
        return "(" + (" OR ".join(parts) or "FALSE") + ")", params


@dataclass(frozen=True)
class History:
    """Where the rows are read as they were: a FROM clause bound to %(dt_start)s and %(dt_end)s.

    It yields, for each feature valid at some moment of [dt_start, dt_end], its latest state in
    that interval (for an instant: the feature as it was then), with the same columns as the
    live source, so that the fields' SQL reads both.
    """

    source: str
    first_moment_sql: str  # SELECT … giving the start of the temporal extent


@dataclass(frozen=True)
class StyleLayer:
    """One Mapbox GL style layer of a collection's tiles (its source and source-layer are added)."""

    type: str  # fill | line | circle | symbol
    paint: dict
    filter: list | None = None
    suffix: str = ""
    minzoom: int | None = None


@dataclass(frozen=True)
class Collection:
    id: str
    title: str | Promise
    description: str | Promise
    source: str
    fields: tuple[Field, ...]
    geometry: str = "t.geom"
    geometry_type: str = "MultiPolygon"
    id_sql: str = "t.code"
    id_title: str | Promise = ""
    where: str = "TRUE"
    history: History | None = None
    datetime_field: str | None = None  # the field that `datetime` refers to (shown in queryables)
    scope: ScopeColumns | None = None  # None: public
    style: tuple[StyleLayer, ...] = ()
    tile_source: str | None = None  # FROM clause of the tiles when it differs (no joins needed there)
    tile_where: str = "TRUE"  # may use %(z)s
    tile_geometry_merc: str | None = None  # `geometry` stored in EPSG:3857, if it is (tiles.TileLayer.merc_column)
    min_zoom: int = 0
    max_zoom: int = 22
    order: int = 100  # position in the collection list
    extra: dict = field(default_factory=dict)

    def visible_to(self, user) -> bool:
        return self.scope is None or bool(user and user.is_authenticated)

    def fields_for(self, user) -> tuple[Field, ...]:
        """The fields this user may read (and filter and sort on)."""
        signed_in = bool(user and user.is_authenticated)
        return tuple(f for f in self.fields if f.public or signed_in)

    def field(self, name: str, user) -> Field | None:
        return next((f for f in self.fields_for(user) if f.name == name), None)

    @property
    def tile_fields(self) -> tuple[Field, ...]:
        return tuple(f for f in self.fields if f.public and f.tile)


COLLECTIONS: dict[str, Collection] = {}


def register(collection: Collection) -> None:
    """Add a collection to the OGC API and its tile layer to /tiles/ (idempotent by id)."""
    COLLECTIONS[collection.id] = collection
    if collection.scope is None:  # tiles are public and cached: only public collections get them
        fields = collection.tile_fields
        tiles.register_layer(
            tiles.TileLayer(
                name=collection.id,
                source=collection.tile_source or collection.source,
                geom_column=collection.geometry,
                columns=", ".join(f'{f.sql} AS "{f.name}"' for f in fields),
                where=f"({collection.where}) AND ({collection.tile_where})",
                min_zoom=collection.min_zoom,
                max_zoom=collection.max_zoom,
                title=collection.title,
                fields=tuple((f.name, f.type) for f in fields),
                style=collection.style,
                bounds=lambda: query.extent(collection),
                merc_column=collection.tile_geometry_merc,
            )
        )


def collections_for(user) -> list[Collection]:
    return sorted((c for c in COLLECTIONS.values() if c.visible_to(user)), key=lambda c: (c.order, c.id))


def collection_for(cid: str, user) -> Collection | None:
    """The collection, or None when it does not exist or this user may not see it (same answer)."""
    c = COLLECTIONS.get(cid)
    return c if c is not None and c.visible_to(user) else None
