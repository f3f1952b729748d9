"""HJ 212-2017 factor codes (污染物因子编码) that GridGov names: a label and a unit each.

Codes not listed are stored and shown by their code; the list is for labels only.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

# code: (label, unit)
FACTORS: dict[str, tuple[str, str]] = {
    # waste water (排放口 DW)
    "w00000": (_("废水流量"), "m³/h"),
    "w01001": (_("pH 值"), ""),
    "w01018": (_("化学需氧量"), "mg/L"),
    "w01017": (_("五日生化需氧量"), "mg/L"),
    "w01019": (_("高锰酸盐指数"), "mg/L"),
    "w01009": (_("溶解氧"), "mg/L"),
    "w01010": (_("水温"), "℃"),
    "w01014": (_("电导率"), "μS/cm"),
    "w01003": (_("浊度"), "NTU"),
    "w21003": (_("氨氮"), "mg/L"),
    "w21011": (_("总磷"), "mg/L"),
    "w21001": (_("总氮"), "mg/L"),
    "w20122": (_("总铬"), "mg/L"),
    # flue gas (排放口 DA)
    "a00000": (_("废气流量"), "m³/h"),
    "a21026": (_("二氧化硫"), "mg/m³"),
    "a21002": (_("氮氧化物"), "mg/m³"),
    "a34013": (_("烟尘"), "mg/m³"),
    "a19001": (_("氧含量"), "%"),
    "a01012": (_("烟气温度"), "℃"),
    "a24088": (_("非甲烷总烃"), "mg/m³"),
    # ambient air (stations)
    "a34004": (_("PM2.5"), "μg/m³"),
    "a34002": (_("PM10"), "μg/m³"),
    "a21004": (_("二氧化氮"), "μg/m³"),
    "a21005": (_("一氧化碳"), "mg/m³"),
    "a05024": (_("臭氧"), "μg/m³"),
}


def factor_label(code: str) -> str:
    entry = FACTORS.get(code)
    return str(entry[0]) if entry else code


def factor_unit(code: str) -> str:
    entry = FACTORS.get(code)
    return entry[1] if entry else ""
