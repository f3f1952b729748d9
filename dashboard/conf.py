"""Defaults of the dashboard app; each may be overridden by a Django setting of the same name."""

from __future__ import annotations

from django.conf import settings

DEFAULTS = {
    # 文号 of the monthly 通报: <prefix>〔<year>〕<month>号, e.g. 杭环网〔2026〕11号.
    "DASHBOARD_REPORT_DOC_PREFIX": "杭环网",
    # 发文机关 printed at the head and foot of the 通报.
    "DASHBOARD_REPORT_ISSUER": "杭州市生态环境网格化监管办公室（演示）",
}


def setting(name: str):
    return getattr(settings, name, DEFAULTS[name])
