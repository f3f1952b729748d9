"""Words the cockpit's scripts put on the page, translated for the request, and status colours.

One way for every script of the project: the page hands its scripts a dict of translated words
(`{{ labels|json_script:"…-labels" }}`), keyed by a stable name; the words are `gettext` /
`pgettext` calls here, so `make messages` finds them and the .po file translates them like any
template string. (Django's JavaScriptCatalog would need an extra request and a global `gettext`
in every script.)
"""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop, pgettext

# The top-level categories of patrol's taxonomy, so that their names (data, in Chinese) have an
# English entry in the catalogue: `category_name()` shows the translation where there is one.
TOP_CATEGORIES = (
    gettext_noop("大气"),
    gettext_noop("水"),
    gettext_noop("固废"),
    gettext_noop("噪声"),
    gettext_noop("土壤"),
    gettext_noop("生态"),
    gettext_noop("散乱污"),
    gettext_noop("其他"),
)


def category_name(name: str) -> str:
    """A category's name in the active language (categories added by admins stay as typed)."""
    return _(name) if name in TOP_CATEGORIES else name


# Case status → colour on the map and in its legend (one table for both).
STATUS_COLOURS = {
    "reported": "#8c8c8c",
    "verified": "#1f78b4",
    "rejected": "#c8c8c8",
    "duplicate": "#dddddd",
    "dispatched": "#6a3d9a",
    "rectifying": "#ff7f00",
    "submitted": "#b2df8a",
    "accepted": "#33a02c",
}


def js_labels() -> dict[str, str]:
    return {
        # map, legend, tooltips
        "above": _("以上"),
        "no_data": _("无数据"),
        "no_cases": _("无案件"),
        "cases": _("案件"),
        "overdue": _("超期"),
        "closure_rate": _("结案率"),
        "mean": _("平均"),
        "days": _("天"),
        "candidate": _("遥感图斑 #"),
        "request_failed": _("请求失败"),
        # case list
        "id": _("编号"),
        "category": _("类别"),
        "status": _("状态"),
        "reported": pgettext("column: when the case was reported", "上报时间"),
        # KPI cards
        "vs_last_month": _("较上月"),
        "unchanged": _("持平"),
        "last_month_value": _("上月"),
        "month_of": _("统计月份"),
        # charts
        "trend": _("按周趋势"),
        "reported_series": pgettext("chart series: cases reported", "上报"),
        "closed_series": _("办结"),
        "by_category": _("按类别"),
        "by_source": _("按来源"),
        "close_time": _("办结用时分布（天）"),
        "count_unit": _("件"),
        "days_or_more": _("天以上"),
        # ranking
        "rank": _("名次"),
        "change": _("变化"),
        "area": _("区域"),
        "unranked": _("未排名（本月无案件）"),
        # to-do
        "all_kinds": _("全部"),
        "todo_empty": _("暂无待办"),
        "waiting": _("已等待"),
        "deadline": _("期限"),
        "open_case": _("查看"),
        "more": _("更多"),
    }
