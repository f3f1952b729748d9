"""The import's database half: what is stored, COPY into a staging table, stored overlaps, commit.

All of it on one plain psycopg cursor inside the import's transaction (server-side binding,
binary COPY, dumpers registered on that cursor alone), JIT off for the transaction:

1. `stored_state`: one round trip for what the database knows about the file's codes (the units
   it replaces, locked; the last version of each code, deleted units included; the stored units
   it leaves in place but could overlap);
2. `stage`: the checked features into a temporary table by binary COPY, each with its next
   version and whether it replaces a unit;
3. `stored_overlaps`: overlaps of the staged features with those neighbours (usually none);
4. `commit`: units updated and inserted, the open versions closed, one version each, all by
   INSERT/UPDATE … SELECT from the staging table.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import psycopg
from django.utils import timezone
from psycopg.adapt import Dumper
from psycopg.pq import Format

from .geometry import OVERLAP_TOLERANCE_M2
from .import_checks import Checked
from .services import Actor, author_of

STAGE = "zoning_import_stage"
STAGE_COLUMNS = "idx, code, name, category, district_id, district_code, access_list, version, existing, geom"
_JSONB_OID = psycopg.adapters.types["jsonb"].oid


class _WireBytes(Dumper):
    """Send bytes that already are a type's binary wire format (for COPY … FORMAT BINARY)."""

    format = Format.BINARY

    def dump(self, obj: bytes) -> bytes:
        return obj


@lru_cache(maxsize=8)
def _wire_dumper(oid: int) -> type[Dumper]:
    return type(f"_WireBytes{oid}", (_WireBytes,), {"oid": oid})


@dataclass
class StoredState:
    existing: set[str] = field(default_factory=set)  # codes of the units the file replaces
    last_version: dict[str, int] = field(default_factory=dict)  # code → its last version number
    neighbours: list[int] = field(default_factory=list)  # ids of stored units the file could overlap
    geometry_oid: int = 0
    jit: str = "on"


def begin(raw: psycopg.Cursor) -> StoredState:
    """Turn JIT off for this transaction, and learn the geometry type's oid (for the COPY).

    JIT compiling costs ~0.15 s per statement here and never pays back: the cost estimates of
    the PostGIS functions cross jit_above_cost, the statements are not that long.
    """
    raw.execute("SELECT current_setting('jit'), set_config('jit', 'off', true), 'geometry'::regtype::oid")
    jit, _off, geometry_oid = raw.fetchone()
    return StoredState(geometry_oid=geometry_oid, jit=jit)


def end(raw: psycopg.Cursor, state: StoredState) -> None:
    raw.execute(f"DROP TABLE IF EXISTS {STAGE}")
    raw.execute("SELECT set_config('jit', %s, true)", [state.jit])


def stored_state(raw: psycopg.Cursor, state: StoredState, checked: Checked, *, lock: bool) -> None:
    """What the stored data says about this file, in one round trip.

    The codes go as one comma-separated string, split in SQL: a 10,000-element array parameter
    costs more to adapt on the client (and to plan against) than the query. Only well-formed
    codes (letters and digits) can be stored, so only they are looked up.
    """
    codes = ",".join(checked.codes[i] for i in checked.idx.tolist() if checked.code_ok[i])
    lock_sql = " ORDER BY u.code FOR UPDATE OF u" if lock else ""
    raw.execute(
        f"""WITH c AS MATERIALIZED (SELECT unnest(string_to_array(%(codes)s, ',')) AS code),
            replaced AS (SELECT u.code FROM zoning_controlunit u JOIN c ON u.code = c.code{lock_sql})
            SELECT 'unit', code, NULL::bigint FROM replaced
            UNION ALL
            SELECT 'version', v.code, max(v.version) FROM zoning_zoningversion v JOIN c ON v.code = c.code
             WHERE v.layer = 'control_unit' GROUP BY v.code
            UNION ALL
            SELECT 'neighbour', NULL, u.id FROM zoning_controlunit u
             WHERE u.geom && ST_MakeEnvelope(%(x0)s, %(y0)s, %(x1)s, %(y1)s, 4326)
               AND NOT EXISTS (SELECT 1 FROM c WHERE c.code = u.code)""",
        {"codes": codes, **dict(zip(("x0", "y0", "x1", "y1"), checked.extent, strict=True))},
    )
    for kind, code, number in raw.fetchall():
        if kind == "unit":
            state.existing.add(code)
        elif kind == "version":
            state.last_version[code] = number
        else:
            state.neighbours.append(number)


def stage(raw: psycopg.Cursor, state: StoredState, checked: Checked, *, districts: dict[str, int]) -> None:
    """COPY the checked features into the staging table (binary: WKB and jsonb go as they are)."""
    raw.execute(f"DROP TABLE IF EXISTS {STAGE}")
    raw.execute(
        f"CREATE TEMP TABLE {STAGE} (idx int, code text, name text, category text, district_id int, "
        "district_code text, access_list jsonb, version int, existing bool, "
        "geom geometry(MultiPolygon, 4326)) ON COMMIT DROP"
    )
    raw.adapters.register_dumper(None, _wire_dumper(state.geometry_oid))
    raw.adapters.register_dumper(None, _wire_dumper(_JSONB_OID))
    codes, names, cats, dcodes = checked.codes, checked.names, checked.categories, checked.district_codes
    with raw.copy(f"COPY {STAGE} ({STAGE_COLUMNS}) FROM STDIN (FORMAT BINARY)") as copy:
        copy.set_types(["int4", "text", "text", "text", "int4", "text", _JSONB_OID, "int4", "bool", state.geometry_oid])
        for j, i in enumerate(checked.idx.tolist()):
            code, dcode = codes[i], dcodes[i]
            copy.write_row(
                (
                    i,
                    code,
                    names[i],
                    cats[i],
                    districts[dcode] if dcode else None,
                    dcode,
                    checked.access_jsonb[i],
                    state.last_version.get(code, 0) + 1,
                    code in state.existing,
                    checked.wkbs[j],
                )
            )


def stored_overlaps(raw: psycopg.Cursor, state: StoredState) -> list[tuple[int, str, str, float]]:
    """(feature index, code, stored code, area m²) of staged features overlapping stored neighbours.

    Each neighbour probes the staged units through an index on the stage, built only when there
    are neighbours (no ANALYZE: the plan is fixed by the id list).
    """
    if not state.neighbours:
        return []
    raw.execute(f"CREATE INDEX ON {STAGE} USING gist (geom)")
    raw.execute(
        f"""SELECT idx, code, other, a FROM (
               SELECT s.idx, s.code, u.code other, ST_Area(ST_Intersection(s.geom, u.geom)::geography) a
                 FROM zoning_controlunit u JOIN {STAGE} s ON ST_Intersects(s.geom, u.geom)
                WHERE u.id = ANY(%s) OFFSET 0
           ) o WHERE a > %s ORDER BY idx, other""",
        [state.neighbours, OVERLAP_TOLERANCE_M2],
    )
    return raw.fetchall()


def commit(raw: psycopg.Cursor, state: StoredState, *, reason: str, actor: Actor) -> None:
    """Write the staged units: update existing ones, insert new ones, one version each.

    The staging table already carries each unit's next version and whether it exists, so each
    write is a plain scan of it; statements that would touch nothing are skipped.
    """
    now = timezone.now()
    author, author_name = author_of(actor)
    author_id = author.pk if author else None
    if state.existing:
        raw.execute(
            f"""UPDATE zoning_controlunit u SET name = s.name, category = s.category, district_id = s.district_id,
                      access_list = s.access_list, geom = s.geom, version = s.version, updated_at = %s,
                      updated_by_id = %s, synthetic = false
                 FROM {STAGE} s WHERE s.existing AND u.code = s.code""",
            [now, author_id],
        )
    raw.execute(
        f"""INSERT INTO zoning_controlunit (code, name, category, district_id, access_list, geom, version, synthetic,
                                          updated_at, updated_by_id)
           SELECT code, name, category, district_id, access_list, geom, version, false, %s, %s
             FROM {STAGE} WHERE NOT existing""",
        [now, author_id],
    )
    if state.last_version:  # close the open version of every code that has one
        raw.execute(
            "UPDATE zoning_zoningversion SET valid_to = %s WHERE layer = 'control_unit' AND valid_to IS NULL "
            f"AND code IN (SELECT code FROM {STAGE} WHERE version > 1)",
            [now],
        )
    raw.execute(
        f"""INSERT INTO zoning_zoningversion (layer, code, version, action, reason, author_id, author_name, created_at,
                                            valid_from, valid_to, name, category, geom, attributes)
           SELECT 'control_unit', code, version, 'import', %s, %s, %s, %s, %s, NULL, name, category, geom,
                  jsonb_build_object('name', name, 'category', category, 'district_code', district_code,
                                     'access_list', access_list, 'synthetic', false)
             FROM {STAGE}""",
        [reason, author_id, author_name, now, now],
    )
