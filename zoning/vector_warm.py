"""Imported once by the fork server of gridgov.untrusted (see zoning/uploads.py), for its effect.

Every child that reads an upload is forked from that server. GDAL's first read in a process
(its drivers' and CRS machinery's start-up) costs tens of milliseconds; done here, each child
starts past it. (pyproj resets its PROJ context in a forked child, so it cannot be warmed
this way.) Nothing here touches an upload.
"""

from __future__ import annotations

import io
import warnings

import numpy as np
import pyogrio.raw
import shapely

from . import vector_read  # noqa: F401  (the reader itself, imported once rather than per child)

_FEATURE = (
    b'{"type":"FeatureCollection","crs":{"type":"name","properties":{"name":"urn:ogc:def:crs:EPSG::4490"}},'
    b'"features":[{"type":"Feature","properties":{"code":"x"},'
    b'"geometry":{"type":"Polygon","coordinates":[[[120,30],[120.1,30],[120.1,30.1],[120,30]]]}}]}'
)

pyogrio.raw.read(_FEATURE, encoding=None)
# And a GeoPackage, written in memory: the driver's SQLite start-up, done once.
_GPKG = io.BytesIO()
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    pyogrio.raw.write(
        _GPKG,
        np.array([shapely.to_wkb(shapely.box(120.0, 30.0, 120.1, 30.1))], dtype=object),
        [np.array(["x"], dtype=object)],
        ["code"],
        driver="GPKG",
        geometry_type="Polygon",
        crs="EPSG:4490",
        layer="warm",
    )
    pyogrio.raw.read(_GPKG.getvalue(), encoding=None)
