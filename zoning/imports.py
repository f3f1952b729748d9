"""Import of control units from a zipped Shapefile, GeoPackage or GeoJSON: all or nothing.

Set-based, so that 10,000 units load in about a second:

1. **read** (zoning/uploads.py → zoning/vector_read.py, in a limited child process): the file
   opened only as what it declares, reprojected to WGS84, its geometry checked there
   (zoning/import_geometry.py: polygons, valid, inside the city, no overlap in the file);
2. **check** (zoning/import_checks.py): every feature's attributes on whole columns;
3. **COPY** (zoning/import_stage.py): what the database knows about the codes, the features
   into a staging table, overlaps with the stored units the file leaves in place;
4. **commit**: units and one version each, by INSERT … SELECT.

A dry run stops before writing and returns the per-feature errors; a commit with any error
writes nothing and answers 400 with them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from django.db import connection, transaction
from django.utils.translation import gettext as _

from gridgov.errors import InvalidInput
from gridgov.models import AdminArea, AreaLevel

from . import conf, import_stage, uploads
from .import_checks import Checked, check_features, city_boundary_wkb
from .services import Actor, require_editor, require_reason

# The reason recorded for nothing: a dry run without one writes no version.
DRY_RUN_REASON = "（试导入）"


@dataclass
class ImportResult:
    dry_run: bool
    features: int
    source_crs: str = ""
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    errors: list[dict] = field(default_factory=list)
    construction_bans: int = 0

    def refused(self) -> list[dict]:
        """The features with a problem, each once, with every reason (the file's order)."""
        by_feature: dict[int, dict] = {}
        for error in self.errors:
            entry = by_feature.setdefault(
                error["feature"], {"feature": error["feature"], "code": error["code"], "reasons": []}
            )
            entry["reasons"].append(error["message"])
        return list(by_feature.values())

    def as_dict(self) -> dict:
        refused = self.refused()
        return {
            "dry_run": self.dry_run,
            "features": self.features,
            "source_crs": self.source_crs,
            "created": len(self.created),
            "updated": len(self.updated),
            "created_codes": self.created[:200],
            "updated_codes": self.updated[:200],
            "construction_bans": self.construction_bans,
            "errors": self.errors[:500],
            "error_count": len(self.errors),
            "refused": refused[:500],
            "refused_count": len(refused),
            "committed": not self.dry_run and not self.errors,
        }


def units_import(*, upload, reason: str, dry_run: bool, actor: Actor, gcj02: bool = False) -> ImportResult:
    """Import control units from an uploaded file."""
    require_editor(actor)
    reason = _reason(reason, dry_run=dry_run)
    with uploads.received(upload, max_bytes=conf.limits().import_bytes) as path:
        return _import(path, reason=reason, dry_run=dry_run, actor=actor, gcj02=gcj02)


def units_import_path(*, path: Path, reason: str, dry_run: bool, actor: Actor, gcj02: bool = False) -> ImportResult:
    """Import control units from a file on this machine (the management command, benchmarks)."""
    require_editor(actor)
    reason = _reason(reason, dry_run=dry_run)
    return _import(Path(path), reason=reason, dry_run=dry_run, actor=actor, gcj02=gcj02)


def _reason(reason: str, *, dry_run: bool) -> str:
    return require_reason(reason) if not dry_run or (reason or "").strip() else DRY_RUN_REASON


def _import(path: Path, *, reason: str, dry_run: bool, actor: Actor, gcj02: bool) -> ImportResult:
    units = uploads.read_units_file(path, gcj02=gcj02, city_wkb=city_boundary_wkb())
    n = units.n
    if n == 0:
        raise InvalidInput(_("文件中没有要素。"), code="no_features", field="file")
    districts = dict(AdminArea.objects.filter(level=AreaLevel.DISTRICT).values_list("code", "id"))
    checked = check_features(units, districts=districts)
    result = ImportResult(
        dry_run=dry_run, features=n, source_crs=units.crs, construction_bans=checked.construction_bans
    )
    with transaction.atomic():
        connection.ensure_connection()
        # A plain psycopg cursor on Django's connection (so inside this transaction).
        with psycopg.Cursor(connection.connection) as raw:
            state = import_stage.begin(raw)
            import_stage.stored_state(raw, state, checked, lock=not dry_run)
            import_stage.stage(raw, state, checked, districts=districts)
            _add_stored_overlaps(checked, import_stage.stored_overlaps(raw, state))
            for code in (checked.codes[i] for i in checked.idx.tolist()):
                (result.updated if code in state.existing else result.created).append(code)
            result.errors = checked.errors
            if not dry_run and not checked.errors:
                import_stage.commit(raw, state, reason=reason, actor=actor)
            import_stage.end(raw, state)
    if checked.errors and not dry_run:
        first = checked.errors[0]
        raise InvalidInput(
            _("导入未执行：共 %(count)s 处错误，第一处：%(first)s")
            % {"count": len(checked.errors), "first": first["message"]},
            code="import_errors",
            field=first["field"],
            extra={"errors": checked.errors[:500], "error_count": len(checked.errors), "features": n},
        )
    return result


def _add_stored_overlaps(checked: Checked, overlaps: list[tuple[int, str, str, float]]) -> None:
    for i, code, other, area in overlaps:
        checked.error(
            i,
            code,
            "geometry",
            _("第 %(n)s 个要素 %(code)s 与已有单元 %(other)s 重叠 %(area).0f 平方米。")
            % {"n": i + 1, "code": code, "other": other, "area": area},
            overlap_with=other,
            area_m2=round(area, 1),
        )
    if overlaps:
        checked.errors.sort(key=lambda e: e["feature"])
