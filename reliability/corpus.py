"""Hostile files, generated at run time (nothing checked in): each must get a clear 4xx.

`files()` yields (name, filename, content type, bytes or a zero-argument callable returning an
iterator of chunks for the streamed 200 MB upload).
"""

from __future__ import annotations

import io
import json
import struct
import warnings
import zipfile
from collections.abc import Callable, Iterator

BIG_BYTES = 200 * 1024 * 1024


def corrupt_zip() -> bytes:
    good = io.BytesIO()
    with zipfile.ZipFile(good, "w") as z:
        z.writestr("a.geojson", '{"type":"FeatureCollection","features":[]}' * 50)
    data = bytearray(good.getvalue())
    data[30:60] = b"\x00" * 30  # smash the local header and the start of the data
    return bytes(data[: len(data) - 10])  # and cut off the end of the central directory


def zip_slip() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("../../../../tmp/gridgov-zip-slip.txt", "escaped")
        z.writestr("/etc/gridgov-abs.txt", "absolute")
    return out.getvalue()


def zip_bomb(uncompressed: int = 1024 * 1024 * 1024) -> bytes:
    """1 GB of zeros in ~1 MB."""
    out = io.BytesIO()
    chunk = b"\x00" * (4 * 1024 * 1024)
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        with z.open("bomb.shp", "w", force_zip64=True) as f:
            for _ in range(uncompressed // len(chunk)):
                f.write(chunk)
    return out.getvalue()


def shapefile_without_prj() -> bytes:
    import tempfile
    from pathlib import Path

    import geopandas as gpd
    from shapely.geometry import Polygon

    with tempfile.TemporaryDirectory() as tmp:
        gdf = gpd.GeoDataFrame(
            {"HJZHGKDYBM": ["ZH33010620001"]},
            geometry=[Polygon([(120.1, 30.2), (120.2, 30.2), (120.2, 30.3), (120.1, 30.2)])],
            crs=None,
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "crs was not provided": exactly the point
            gdf.to_file(Path(tmp) / "units.shp")
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w") as z:
            for p in Path(tmp).iterdir():
                if p.suffix.lower() != ".prj":
                    z.write(p, p.name)
        return out.getvalue()


def geojson_nan() -> bytes:
    text = json.dumps(
        {
            "type": "FeatureCollection",
            "features": [
                {
                    "type": "Feature",
                    "properties": {"HJZHGKDYBM": "ZH33010620001"},
                    "geometry": {
                        "type": "Polygon",
                        "coordinates": [[[120.1, 30.2], [float("nan"), 30.2], [120.2, float("nan")], [120.1, 30.2]]],
                    },
                }
            ],
        },
        allow_nan=True,
    )
    return text.encode()


def _tiff(width: int = 64, height: int = 64) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("L", (width, height), 128).save(out, format="TIFF")
    return out.getvalue()


def truncated_tiff() -> bytes:
    data = _tiff(256, 256)
    return data[: len(data) // 3]


def huge_tiff_header() -> bytes:
    """A valid little-endian TIFF header whose IFD claims 100000 x 100000 8-bit pixels."""
    entries = [
        (256, 4, 1, 100_000),  # ImageWidth LONG
        (257, 4, 1, 100_000),  # ImageLength
        (258, 3, 1, 8),  # BitsPerSample
        (259, 3, 1, 1),  # Compression none
        (262, 3, 1, 1),  # Photometric BlackIsZero
        (273, 4, 1, 200),  # StripOffsets
        (277, 3, 1, 1),  # SamplesPerPixel
        (278, 4, 1, 100_000),  # RowsPerStrip
        (279, 4, 1, 10_000_000_000 % 2**32),  # StripByteCounts
    ]
    ifd = struct.pack("<H", len(entries))
    for tag, typ, count, value in entries:
        packed = struct.pack("<HHI", tag, typ, count)
        packed += struct.pack("<HH", value, 0) if typ == 3 else struct.pack("<I", value)
        ifd += packed
    ifd += struct.pack("<I", 0)
    head = b"II*\x00" + struct.pack("<I", 8)
    body = head + ifd
    return body + b"\x00" * (200 - len(body)) + b"\x80" * 1024


def malformed_exif_jpeg() -> bytes:
    """A decodable JPEG whose APP1 Exif segment points its IFDs and GPS block into nowhere."""
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (64, 48), (90, 140, 60)).save(out, format="JPEG")
    jpeg = out.getvalue()
    tiff = b"MM\x00*" + struct.pack(">I", 8)
    # 3 entries: Orientation = 9 (invalid), GPS IFD pointer far past the end, DateTime with bogus count.
    ifd = struct.pack(">H", 3)
    ifd += struct.pack(">HHI", 0x0112, 3, 1) + struct.pack(">HH", 9, 0)
    ifd += struct.pack(">HHII", 0x8825, 4, 1, 0x7FFFFFF0)
    ifd += struct.pack(">HHII", 0x0132, 2, 0x40000000, 0x7FFFFFFF)
    ifd += struct.pack(">I", 0xFFFFFFF0)  # next IFD out of range
    payload = b"Exif\x00\x00" + tiff + ifd + b"\xff" * 7
    app1 = b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload
    return jpeg[:2] + app1 + jpeg[2:]


def big_stream(total: int = BIG_BYTES) -> Callable[[], Iterator[bytes]]:
    def chunks() -> Iterator[bytes]:
        chunk = b"\xff\xd8\xff\xe0" + b"\x00" * (1024 * 1024 - 4)
        sent = 0
        while sent < total:
            yield chunk
            sent += len(chunk)

    return chunks


def files() -> list[tuple[str, str, str, object]]:
    return [
        ("corrupt_zip", "units.zip", "application/zip", corrupt_zip()),
        ("zip_slip", "units.zip", "application/zip", zip_slip()),
        ("zip_bomb", "units.zip", "application/zip", zip_bomb()),
        ("shp_no_prj", "units.zip", "application/zip", shapefile_without_prj()),
        ("geojson_nan", "units.geojson", "application/geo+json", geojson_nan()),
        ("truncated_tiff", "scene.tif", "image/tiff", truncated_tiff()),
        ("huge_tiff", "scene.tif", "image/tiff", huge_tiff_header()),
        ("bad_exif", "photo.jpg", "image/jpeg", malformed_exif_jpeg()),
        ("upload_200mb", "big.jpg", "image/jpeg", big_stream()),
    ]


# --- hostile vector files: each tries to make GDAL read or fetch something outside itself -------
#
# `listener` is the URL of an HTTP server the caller runs and watches (any request to it is a
# failure: the server fetched what a file named); `secret` the path of a file whose contents
# must never come back in an answer. Uploads are judged by what their names declare, so most
# files come both under a name that tells the truth and under an innocent one.


def _zip(members: list[tuple[str, bytes]], *, symlinks: tuple[str, ...] = (), encrypted: tuple[str, ...] = ()) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for name, data in members:
            info = zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0))
            if name in symlinks:
                info.external_attr = (0o120777 << 16) | 0x20  # a symbolic link to `data`
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # "Duplicate name": one of the tricks
                z.writestr(info, data)
        offsets = [(m.header_offset, m.filename in encrypted) for m in z.infolist()]
    data = bytearray(out.getvalue())
    # zipfile writes no encrypted members: set the "encrypted" flag bit in both headers.
    central = data.find(b"PK\x01\x02")
    for offset, flag in offsets:
        if flag:
            data[offset + 6] |= 0x1
            data[central + 8] |= 0x1
        central = data.find(b"PK\x01\x02", central + 4)
    return bytes(data)


def _vrt(source: str, *, sql: str | None = None) -> bytes:
    inner = f"<SrcSQL>{sql}</SrcSQL>" if sql else "<SrcLayer>secret</SrcLayer>"
    return (
        f'<OGRVRTDataSource><OGRVRTLayer name="units"><SrcDataSource>{source}</SrcDataSource>{inner}'
        "<GeometryType>wkbPolygon</GeometryType></OGRVRTLayer></OGRVRTDataSource>"
    ).encode()


def _geojson(crs: dict | None = None) -> bytes:
    ring = [[120.10, 30.20], [120.11, 30.20], [120.11, 30.21], [120.10, 30.21], [120.10, 30.20]]
    doc: dict = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"HJZHGKDYBM": "ZH33010639991", "HJZHGKDYMC": "恶意文件（合成）"},
                "geometry": {"type": "Polygon", "coordinates": [ring]},
            }
        ],
    }
    if crs is not None:
        doc["crs"] = crs
    return json.dumps(doc).encode()


def _shapefile_parts() -> dict[str, bytes]:
    import tempfile
    from pathlib import Path

    import geopandas as gpd
    from shapely.geometry import box

    with tempfile.TemporaryDirectory() as tmp:
        gdf = gpd.GeoDataFrame(
            {"HJZHGKDYBM": ["ZH33010639992"], "HJZHGKDYMC": ["恶意文件（合成）"]},
            geometry=[box(120.10, 30.20, 120.11, 30.21)],
            crs="EPSG:4490",
        )
        gdf.to_file(Path(tmp) / "units.shp", encoding="UTF-8")
        return {p.suffix.lower(): p.read_bytes() for p in Path(tmp).iterdir()}


def _shapefile_zip(**replace: bytes) -> bytes:
    parts = _shapefile_parts()
    parts.update({f".{ext}": data for ext, data in replace.items()})
    return _zip([(f"units{ext}", data) for ext, data in sorted(parts.items())])


def _geopackage(view_sql: str | None = None) -> bytes:
    import sqlite3
    import tempfile
    from pathlib import Path

    import geopandas as gpd
    from shapely.geometry import box

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "units.gpkg"
        gdf = gpd.GeoDataFrame(
            {"HJZHGKDYBM": ["ZH33010639993"], "HJZHGKDYMC": ["恶意文件（合成）"]},
            geometry=[box(120.10, 30.20, 120.11, 30.21)],
            crs="EPSG:4490",
        )
        gdf.to_file(path, driver="GPKG", layer="units")
        if view_sql:
            with sqlite3.connect(path) as db:
                db.execute(f"CREATE VIEW leak AS {view_sql}")
                db.execute(
                    "INSERT INTO gpkg_contents (table_name, data_type, identifier, srs_id) "
                    "VALUES ('leak', 'attributes', 'leak', 0)"
                )
        return path.read_bytes()


def vector_files(*, listener: str, secret: str) -> list[tuple[str, str, str, bytes]]:
    """(name, filename, content type, bytes) of every hostile vector file class."""
    xxe = (
        f'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY leak SYSTEM "file://{secret}">'
        f'<!ENTITY fetch SYSTEM "{listener}/xxe">]>'
        '<ogr:FeatureCollection xmlns:ogr="http://ogr.maptools.org/" xmlns:gml="http://www.opengis.net/gml">'
        "<gml:featureMember><ogr:units><ogr:HJZHGKDYBM>&leak;&fetch;</ogr:HJZHGKDYBM></ogr:units>"
        "</gml:featureMember></ogr:FeatureCollection>"
    ).encode()
    kml = (
        '<?xml version="1.0"?><kml xmlns="http://www.opengis.net/kml/2.2"><Document>'
        f"<NetworkLink><name>units</name><Link><href>{listener}/kml</href></Link></NetworkLink>"
        "</Document></kml>"
    ).encode()
    csv_vrt = _vrt(f"CSV:{secret}")
    sql_vrt = _vrt(secret, sql="SELECT * FROM secret")
    net_vrt = _vrt(f"/vsicurl/{listener}/vrt.geojson")
    gpkg = _geopackage()
    return [
        ("vrt_csv_as_geojson", "units.geojson", "application/geo+json", csv_vrt),
        ("vrt_sql_as_json", "site.json", "application/json", sql_vrt),
        ("vrt_vsicurl_as_geojson", "units.geojson", "application/geo+json", net_vrt),
        ("vrt_declared", "units.vrt", "application/xml", csv_vrt),
        ("vrt_in_zip", "units.zip", "application/zip", _zip([("units.geojson", csv_vrt)])),
        ("gml_xxe_as_geojson", "units.geojson", "application/geo+json", xxe),
        ("gml_xxe_declared", "units.gml", "application/gml+xml", xxe),
        ("gml_xxe_in_zip", "units.zip", "application/zip", _zip([("units.gml", xxe)])),
        ("kml_network_link", "units.kml", "application/vnd.google-earth.kml+xml", kml),
        ("kml_in_zip", "units.zip", "application/zip", _zip([("units.kml", kml)])),
        (
            "geojson_crs_link",
            "units.geojson",
            "application/geo+json",
            _geojson({"type": "link", "properties": {"href": f"{listener}/crs", "type": "proj4"}}),
        ),  # noqa: E501
        (
            "geojson_crs_vsicurl",
            "units.geojson",
            "application/geo+json",
            _geojson({"type": "name", "properties": {"name": f"/vsicurl/{listener}/crs"}}),
        ),  # noqa: E501
        ("shp_prj_vsicurl", "units.zip", "application/zip", _shapefile_zip(prj=f"/vsicurl/{listener}/prj".encode())),
        ("shp_prj_url", "units.zip", "application/zip", _shapefile_zip(prj=f'GEOGCS["{listener}/prj"]'.encode())),
        ("shp_cpg_vsicurl", "units.zip", "application/zip", _shapefile_zip(cpg=f"/vsicurl/{listener}/cpg".encode())),
        ("gpkg_view", "units.gpkg", "application/geopackage+sqlite3", _geopackage(f"SELECT '{listener}/view' AS u")),
        ("gpkg_as_geojson", "units.geojson", "application/geo+json", gpkg),
        ("geojson_as_gpkg", "units.gpkg", "application/geopackage+sqlite3", _geojson()),
        (
            "zip_symlink",
            "units.zip",
            "application/zip",
            _zip([("units.geojson", secret.encode())], symlinks=("units.geojson",)),
        ),  # noqa: E501
        (
            "zip_duplicate",
            "units.zip",
            "application/zip",
            _zip([("units.geojson", _geojson()), ("units.geojson", csv_vrt)]),
        ),  # noqa: E501
        ("zip_nested", "units.zip", "application/zip", _zip([("inner.zip", _zip([("units.geojson", _geojson())]))])),
        (
            "zip_encrypted",
            "units.zip",
            "application/zip",
            _zip([("units.geojson", _geojson())], encrypted=("units.geojson",)),
        ),  # noqa: E501
        (
            "zip_vsicurl_name",
            "units.zip",
            "application/zip",
            _zip([(f"/vsicurl/{listener}/units.geojson", _geojson())]),
        ),  # noqa: E501
    ]
