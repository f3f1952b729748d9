"""Labels of the standards' terms, in the user's language (Chinese by default; English in the .po).

The pure modules (`aqi`, `water`) name things as the standards do; pages and answers show them
through these, so that the English catalogue holds their translations.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

AQI_LEVELS = {
    "优": _("优"),
    "良": _("良"),
    "轻度污染": _("轻度污染"),
    "中度污染": _("中度污染"),
    "重度污染": _("重度污染"),
    "严重污染": _("严重污染"),
}
# The AQI's items: (label, unit)
POLLUTANTS = {
    "so2": (_("二氧化硫"), "μg/m³"),
    "no2": (_("二氧化氮"), "μg/m³"),
    "co": (_("一氧化碳"), "mg/m³"),
    "o3": (_("臭氧1小时"), "μg/m³"),
    "o3_8h": (_("臭氧8小时"), "μg/m³"),
    "pm10": ("PM10", "μg/m³"),
    "pm25": ("PM2.5", "μg/m³"),
}
WATER_FACTORS = {
    "w01009": (_("溶解氧"), "mg/L"),
    "w01019": (_("高锰酸盐指数"), "mg/L"),
    "w01018": (_("化学需氧量"), "mg/L"),
    "w01017": (_("五日生化需氧量"), "mg/L"),
    "w21003": (_("氨氮"), "mg/L"),
    "w21011": (_("总磷"), "mg/L"),
}
WATER_CLASSES = {
    "I": _("Ⅰ类"),
    "II": _("Ⅱ类"),
    "III": _("Ⅲ类"),
    "IV": _("Ⅳ类"),
    "V": _("Ⅴ类"),
    "劣Ⅴ": _("劣Ⅴ类"),
}
WATER_LEVELS = {
    "优": _("优"),
    "良好": _("良好"),
    "轻度污染": _("轻度污染"),
    "中度污染": _("中度污染"),
    "重度污染": _("重度污染"),
}


def pollutant_label(key: str) -> str:
    return str(POLLUTANTS[key][0]) if key in POLLUTANTS else key


def water_factor_label(code: str) -> str:
    return str(WATER_FACTORS[code][0]) if code in WATER_FACTORS else code
