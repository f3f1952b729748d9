"""Limits of the zoning app, read from settings at each use (the setting's name, then the default).

Sizes bound what an upload may make the server do: how much it reads, unpacks and parses, and
how many vertices a geometry may carry into the spatial queries (a 200,000-vertex site took
4 s of PostGIS time). The parsing itself runs in a limited child (gridgov.untrusted).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings

MB = 1024 * 1024


@dataclass(frozen=True)
class ZoningLimits:
    import_bytes: int  # ZONING_MAX_UPLOAD_BYTES: an import file as uploaded
    site_bytes: int  # ZONING_MAX_SITE_UPLOAD_BYTES: a site file for the analysis
    extracted_bytes: int  # ZONING_MAX_EXTRACTED_BYTES: everything a zip unpacks to
    zip_members: int  # ZONING_MAX_ZIP_MEMBERS
    import_vertices: int  # ZONING_MAX_IMPORT_VERTICES: all features of an import together
    site_vertices: int  # ZONING_MAX_SITE_VERTICES: a drawn or uploaded site
    unit_vertices: int  # ZONING_MAX_UNIT_VERTICES: one unit saved through the API
    read_timeout_s: float  # ZONING_READ_TIMEOUT_S: reading one upload in the child
    read_memory_mb: int  # ZONING_READ_MEMORY_MB: the child's memory on top of its start
    report_timeout_s: float  # ZONING_REPORT_TIMEOUT_S: drawing the map and the PDF of a report


def limits() -> ZoningLimits:
    get = lambda name, default: getattr(settings, name, default)  # noqa: E731
    return ZoningLimits(
        import_bytes=get("ZONING_MAX_UPLOAD_BYTES", 50 * MB),
        site_bytes=get("ZONING_MAX_SITE_UPLOAD_BYTES", 5 * MB),
        extracted_bytes=get("ZONING_MAX_EXTRACTED_BYTES", 100 * MB),
        zip_members=get("ZONING_MAX_ZIP_MEMBERS", 200),
        import_vertices=get("ZONING_MAX_IMPORT_VERTICES", 5_000_000),
        site_vertices=get("ZONING_MAX_SITE_VERTICES", 20_000),
        unit_vertices=get("ZONING_MAX_UNIT_VERTICES", 200_000),
        read_timeout_s=get("ZONING_READ_TIMEOUT_S", 60.0),
        read_memory_mb=get("ZONING_READ_MEMORY_MB", 2048),
        report_timeout_s=get("ZONING_REPORT_TIMEOUT_S", 30.0),
    )
