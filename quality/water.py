"""Surface water classes of GB 3838-2002 (Table 1, basic items): pure functions, no Django.

Single-factor evaluation (单因子评价法): each factor is put in the best class whose limit it
meets; the worst factor sets the section's class; a factor beyond class V is 劣Ⅴ. Dissolved
oxygen is a lower bound (≥), every other factor an upper bound (≤). Total phosphorus has its
own limits for lakes and reservoirs (湖、库). Limits in mg/L, classes I / II / III / IV / V:

    DO (w01009) ≥ 7.5 / 6 / 5 / 3 / 2          COD_Mn (w01019) ≤ 2 / 4 / 6 / 10 / 15
    COD (w01018) ≤ 15 / 15 / 20 / 30 / 40       BOD₅ (w01017) ≤ 3 / 3 / 4 / 6 / 10
    NH₃-N (w21003) ≤ 0.15 / 0.5 / 1.0 / 1.5 / 2.0
    TP (w21011) rivers ≤ 0.02 / 0.1 / 0.2 / 0.3 / 0.4; lakes and reservoirs ≤ 0.01 / 0.025 / 0.05 / 0.1 / 0.2

Where two classes share a limit (COD and BOD₅ in I and II) a value within it is class I.
Qualitative levels and colours after 《地表水环境质量评价办法（试行）》 (环办〔2011〕22号):
I–II 优 (blue), III 良好 (green), IV 轻度污染 (yellow), V 中度污染 (orange), 劣Ⅴ 重度污染
(red); the hex values are ours.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

STANDARD = "GB 3838-2002"
CLASSES = ("I", "II", "III", "IV", "V", "劣Ⅴ")
TARGETS = CLASSES[:5]
RIVER, LAKE = "river", "lake"

# factor code: limits of classes I–V; DO is the one lower bound
LIMITS: dict[str, tuple[float, ...]] = {
    "w01009": (7.5, 6, 5, 3, 2),
    "w01019": (2, 4, 6, 10, 15),
    "w01018": (15, 15, 20, 30, 40),
    "w01017": (3, 3, 4, 6, 10),
    "w21003": (0.15, 0.5, 1.0, 1.5, 2.0),
    "w21011": (0.02, 0.1, 0.2, 0.3, 0.4),
}
TP_LAKE = (0.01, 0.025, 0.05, 0.1, 0.2)
LOWER_BOUND = {"w01009"}
FACTORS = tuple(LIMITS)
# Means of float data carry noise (0.15000000000000002): within this of a limit is on it.
TOLERANCE = 1e-9

LEVELS = {
    "I": ("优", "#1E88E5"),
    "II": ("优", "#1E88E5"),
    "III": ("良好", "#2E9D3A"),
    "IV": ("轻度污染", "#F2C500"),
    "V": ("中度污染", "#F57C00"),
    "劣Ⅴ": ("重度污染", "#D32F2F"),
}


@dataclass(frozen=True)
class WaterResult:
    water_class: str  # I … V or 劣Ⅴ
    worst: tuple[str, ...]  # the factors in that class, in FACTORS order
    factor_classes: dict[str, str]


def limits_of(factor: str, water_body: str = RIVER) -> tuple[float, ...]:
    if factor == "w21011" and water_body == LAKE:
        return TP_LAKE
    return LIMITS[factor]


def factor_class(factor: str, value: float, water_body: str = RIVER) -> str:
    """The class of one factor's value (mg/L)."""
    if not value >= 0:
        raise ValueError(f"{factor} must be a number ≥ 0, got {value!r}")
    for name, limit in zip(CLASSES, limits_of(factor, water_body), strict=False):
        ok = value >= limit - TOLERANCE if factor in LOWER_BOUND else value <= limit + TOLERANCE
        if ok:
            return name
    return CLASSES[-1]


def class_rank(name: str) -> int:
    """0 for I … 5 for 劣Ⅴ."""
    return CLASSES.index(name)


def water_class(values: Mapping[str, float | None], water_body: str = RIVER) -> WaterResult | None:
    """The section's class from the factors given (others ignored); None without any."""
    classes = {f: factor_class(f, v, water_body) for f in FACTORS if (v := values.get(f)) is not None}
    if not classes:
        return None
    worst = max(classes.values(), key=class_rank)
    return WaterResult(worst, tuple(f for f in FACTORS if classes.get(f) == worst), classes)


def meets_target(water_class_name: str, target: str | None) -> bool | None:
    """Whether a class meets the target (水质目标): no worse than it. None without a target."""
    if not target:
        return None
    return class_rank(water_class_name) <= class_rank(target)
