"""Labels of the standards' terms, in the user's language (Chinese by default; English in the .po).

The pure modules (`aqi`, `water`) name things as the standards do; pages and answers show them
through these, so that the English catalogue holds their translations.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from monitoring.factors import FACTORS

from . import water

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
# The evaluated factors of GB 3838-2002, in the table's order, named as HJ 212 names them.
WATER_FACTORS = {code: FACTORS[code] for code in water.FACTORS}
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
