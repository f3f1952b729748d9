"""Errors raised by the raster core. Every message names the file and the problem."""

from __future__ import annotations


class RasterError(Exception):
    """Base class of every error raised by ``geodata.raster``."""

    def __init__(self, path: object, problem: str) -> None:
        self.path = str(path) if path is not None else "<array>"
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")


class CorruptRasterError(RasterError):
    """The file is not a readable GeoTIFF (corrupt, truncated, absurd header)."""


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
