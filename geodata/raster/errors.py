"""Errors raised by the raster core: the file, a stable code and its parameters.

Every error names the file (``path``) and says what is wrong with it as a ``code`` from
``PROBLEMS`` with plain ``params`` (strings and numbers: they travel between processes and
to the Django edge). ``problem`` is the English sentence for logs and the command line of the
core; the imagery app translates the code and parameters for users (``geodata.problems``), so
no English detail reaches a Chinese sentence. ``detail`` parameters carry what a library said
(GDAL, zipfile, XML): logged, never shown translated.
"""

from __future__ import annotations

#: code -> English problem, formatted with the error's params.
PROBLEMS: dict[str, str] = {
    # files and names
    "file_missing": "file does not exist",
    "file_unreadable": "file cannot be read ({detail})",
    "unsafe_path": "only local files and folders can be read (no URLs, /vsi… or DRIVER: names)",
    "bad_name": "empty or binary file name {name!r}",
    "unsafe_name": "refusing file name {name!r}: only relative paths inside the product",
    "name_leaves_product": "refusing file name {name!r}: '..' leaves the product folder",
    "name_outside": "{name!r} resolves outside the product folder",
    "not_a_product": (
        "not a product: expected a GeoTIFF, a .SAFE folder or zip, a STAC item .json or a Landsat C2 folder"
    ),
    "not_raster_file": "not a GeoTIFF or JPEG 2000 file (content starts with {start})",
    "stack_not_geotiff": "a stacked scene must be a GeoTIFF, not {driver}",
    # zips and metadata
    "zip_damaged": "not a readable zip: truncated or damaged ({detail})",
    "zip_truncated": "zip is truncated: {member} is cut off",
    "zip_member_unreadable": "{member} cannot be read from the zip ({detail})",
    "metadata_too_large": "{member} is implausibly large",
    "xml_entities": "metadata XML declares entities: refused",
    "xml_invalid": "metadata XML cannot be parsed ({detail})",
    "safe_no_metadata": "no MTD_MSIL2A.xml",
    "safe_level1c": "a Level-1C product: only Level-2A (MTD_MSIL2A.xml) is supported",
    "not_stac": "not a STAC item ({detail})",
    "stac_platform": "STAC item of an unsupported platform {platform!r}",
    "stac_asset_no_href": "asset {asset!r} has no href",
    "stac_asset_missing": "asset {asset!r}: file {href} does not exist",
    "stac_missing_roles": "STAC item has no asset for {roles}",
    "landsat_no_mtl": "no *_MTL.txt metadata file in the folder",
    "landsat_spacecraft": "spacecraft {craft!r}: only Landsat 8/9 OLI is supported",
    "landsat_level": "processing level {level}: a Collection-2 Level-2 product is needed",
    "landsat_band_missing": "band SR_B{band} ({role}) is missing from the folder",
    "cube_not_georeferenced": "no spatial_ref or x/y coordinates to georeference the cube",
    "cube_time_units": "time axis without 'days since' units",
    "cube_no_date": "no date {date} in the {res} m cube",
    # bands and pixels
    "band_missing": "band {band} ({res} m) is missing from the product",
    "roles_missing": "product has no {roles} band",
    "no_reflectance_band": "product has no reflectance band",
    "band_count": "sensor {sensor!r} expects {expected} bands, file has {count}",
    "band_index_missing": "has {count} band(s), band {index} was expected",
    "unreadable": "not a readable {driver} raster ({detail})",
    "too_many_pixels": "header claims {width}x{height} pixels, refusing (max {max})",
    "block_too_large": "block of {width}x{height} is too large to read safely",
    "no_crs": "raster has no CRS (georeferencing missing)",
    "undecodable": "pixel data cannot be decoded ({detail})",
    # sensors and pairs
    "unknown_sensor": "unknown sensor {sensor!r}; known: {known}",
    "sensor_required": "sensor not given and not in the file's tags (one of {known})",
    "sensor_lacks_band": "sensor {sensor!r} has no {role!r} band",
    "sensor_differs": "the product is {actual}, not {expected}",
    "pair_sensor_mismatch": "sensor {after} differs from the before product's ({before})",
    "crs_untransformable": "cannot transform bounds to the before CRS ({detail})",
    "no_overlap": "does not overlap {other}",
    "no_valid_pixels": "no pixel valid on both dates with {other} (all nodata / cloud / shadow)",
    "series_too_short": "a series needs three or more dates",
    "series_order": "date {date} is not after the previous date {previous}: give the series oldest first",
    "cancelled": "detection cancelled",
    # the Dask cluster
    "cluster_unreachable": "cannot reach the Dask scheduler ({detail})",
    "cluster_no_workers": "the scheduler has no workers (start: dask worker <address>)",
    "cluster_worker_broken": "the workers cannot run the raster core ({detail})",
    "cluster_mismatch": "worker {worker} runs other code: {diff}",
    "scheduler_exited": "dask scheduler exited with {returncode}",
    "scheduler_not_listening": "dask scheduler did not start listening",
}


def _rebuild(cls, path: str, code: str, params: dict) -> RasterError:
    return cls(path, code, **params)


class RasterError(Exception):
    """Base class of every error raised by ``geodata.raster``: ``path``, ``code``, ``params``."""

    def __init__(self, path: object, code: str, /, **params: object) -> None:
        self.path = str(path) if path is not None else "<array>"
        self.code = code
        self.params = params
        self.problem = PROBLEMS[code].format(**params)
        super().__init__(f"{self.path}: {self.problem}")

    def __reduce__(self):  # picklable across Dask workers and sandboxed children
        return _rebuild, (type(self), self.path, self.code, self.params)


class CorruptRasterError(RasterError):
    """The file is not a readable raster or product (corrupt, truncated, absurd header)."""


class NoCRSError(RasterError):
    """The raster has no coordinate reference system."""


class NoOverlapError(RasterError):
    """The two scenes of a pair do not overlap."""


class SensorMismatchError(RasterError):
    """Unknown sensor, or the two scenes were given different sensors / dtypes."""


class BandCountError(RasterError):
    """The raster does not have the number of bands the sensor profile expects."""


class NoValidPixelsError(RasterError):
    """No pixel is valid on both dates (all nodata, all cloud/shadow)."""


class DetectionCancelled(RasterError):
    """``should_cancel()`` returned True; partial outputs were removed."""


class SeriesOrderError(RasterError):
    """A time series with fewer than three dates, or dates not strictly oldest first."""
