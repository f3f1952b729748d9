"""Plain data types shared by the raster core."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from shapely.geometry import mapping

ChangeType = Literal["vegetation_loss", "construction", "water_change"]
ProgressCallback = Callable[[int, int], None]
CancelCallback = Callable[[], bool]


@dataclass(frozen=True)
class Thresholds:
    """Per-rule thresholds actually used; ``auto`` tells which came from the scene (z-score
    over its stable pixels, with the floor); ``stable`` holds (median, robust sigma) of each
    automatic rule's score on the sample."""

    vegetation_loss: float
    construction: float
    water_change: float
    construction_colour: float = math.inf  # colour test of construction (``change``); inf = off
    auto: tuple[str, ...] = ()
    construction_index: str = "ndbi"
    water_index: str = "mndwi"
    stable: dict[str, tuple[float, float]] = field(default_factory=dict)


@dataclass
class ChangeRecord:
    """One change polygon. ``geometry`` is a shapely geometry in WGS84 (lon, lat)."""

    geometry: Any
    change_type: ChangeType
    area_m2: float
    mean_index_change: float
    index: str
    confidence: float
    pixel_count: int
    first_seen: Any = None  # datetime.date, time series only

    def to_feature(self) -> dict[str, Any]:
        return {
            "type": "Feature",
            "geometry": mapping(self.geometry),
            "properties": {
                "change_type": self.change_type,
                "area_m2": round(self.area_m2, 2),
                "mean_index_change": round(self.mean_index_change, 4),
                "index": self.index,
                "confidence": round(self.confidence, 3),
                "pixel_count": self.pixel_count,
                **({"first_seen": self.first_seen.isoformat()} if self.first_seen is not None else {}),
            },
        }


@dataclass
class DetectionResult:
    """``detect_changes`` output: records plus what was used to get them."""

    records: list[ChangeRecord]
    thresholds: Thresholds
    valid_pixels: int
    total_pixels: int
    tiles: int
    change_raster: str | None = None
    notes: list[str] = field(default_factory=list)

    def __iter__(self):
        return iter(self.records)

    def __len__(self) -> int:
        return len(self.records)

    def to_geojson(self) -> dict[str, Any]:
        return {"type": "FeatureCollection", "features": [r.to_feature() for r in self.records]}


@dataclass(frozen=True)
class ZoneSummary:
    """Changed area (m²) by change type inside one zone."""

    zone_id: Any
    zone_area_m2: float
    valid_area_m2: float
    changed_area_m2: dict[str, float]

    @property
    def total_changed_m2(self) -> float:
        return sum(self.changed_area_m2.values())


@dataclass(frozen=True)
class EvaluationResult:
    recall_area: float
    precision_area: float
    recall_object: float
    precision_object: float
    n_truth: int
    n_truth_excluded: int
    n_detected: int
    n_detected_ignored: int
    matched_truth: int
    matched_detected: int
