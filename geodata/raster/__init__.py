"""Pure raster core of the imagery module (no Django): open/validate, align, masks,
indices, change rules, clean-up, windowed parallel detection, zonal summary, synthetic
scenes and accuracy evaluation."""

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
)
from .evaluate import evaluate
from .scene import open_scene, validate_scene
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
    "detect_changes",
    "evaluate",
    "open_scene",
    "summarize_by_zones",
    "validate_scene",
]
