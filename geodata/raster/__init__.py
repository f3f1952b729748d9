"""Pure raster core of the imagery module (no Django): products and readers, radiometric
normalisation, haze, clouds and masks, indices, change rules, clean-up, windowed parallel
detection (``detect``: the steps; ``window``: per pixel; ``tiles``; ``seams``), time series,
zonal summary, synthetic scenes, references and accuracy evaluation."""

from .detect import detect_changes
from .errors import (
    BandCountError,
    CorruptRasterError,
    DetectionCancelled,
    NoCRSError,
    NoOverlapError,
    NoValidPixelsError,
    RasterError,
    SensorMismatchError,
    SeriesOrderError,
)
from .evaluate import evaluate
from .zonal import summarize_by_zones

__all__ = [
    "BandCountError",
    "CorruptRasterError",
    "DetectionCancelled",
    "NoCRSError",
    "NoOverlapError",
    "NoValidPixelsError",
    "RasterError",
    "SensorMismatchError",
    "SeriesOrderError",
    "detect_changes",
    "evaluate",
    "summarize_by_zones",
]
