"""Case exports (CSV, XLSX) with every stage time, for the user's jurisdiction.

Cells hold what people typed (descriptions, names), some of it from the public through
Open311. A spreadsheet would run such text as a formula (`=HYPERLINK(…)`, `=WEBSERVICE(…)`), so
every string is written as text: in XLSX as a string cell (XlsxWriter told never to turn a
string into a formula, a link or a number), in CSV with a leading `'` when it starts
with one of `= + - @ tab CR` (OWASP's advice for CSV injection). Numbers and times stay values.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re

import xlsxwriter
from django.db.models.expressions import RawSQL
from django.http import HttpResponse, StreamingHttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from gridgov.errors import InvalidInput
from patrol.models import CLOCK_STATUSES, Priority, Source, Status

from .filters import CaseFilter
from .selectors import cases_for

EXPORT_MAX_ROWS = 50_000
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
#: What XML 1.0 cannot hold: C0 controls but tab, LF and CR.
ILLEGAL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")

EXPORT_FIELDS = [
    ("id", gettext_lazy("编号")),
    ("category_id", gettext_lazy("类别编码")),
    ("category__name", gettext_lazy("类别")),
    ("source", gettext_lazy("来源")),
    ("status", gettext_lazy("状态")),
    ("priority", gettext_lazy("优先级")),
    ("description", gettext_lazy("问题描述")),
    ("district__code", gettext_lazy("区县代码")),
    ("district__name", gettext_lazy("区县")),
    ("township__code", gettext_lazy("乡镇街道代码")),
    ("township__name", gettext_lazy("乡镇街道")),
    ("grid_cell_code", gettext_lazy("网格编码")),
    ("responsible_unit__name", gettext_lazy("责任单位")),
    ("lon", gettext_lazy("经度(WGS84)")),
    ("lat", gettext_lazy("纬度(WGS84)")),
    ("reported_at", gettext_lazy("上报时间")),
    ("verified_at", gettext_lazy("立案时间")),
    ("dispatched_at", gettext_lazy("交办时间")),
    ("deadline", gettext_lazy("整改期限")),
    ("rectified_at", gettext_lazy("整改提交时间")),
    ("accepted_at", gettext_lazy("验收时间")),
    ("escalated_at", gettext_lazy("督办时间")),
    ("escalation_level", gettext_lazy("督办级别")),
    ("published_at", gettext_lazy("曝光时间")),
    ("closed_at", gettext_lazy("结案时间")),
    ("overdue", gettext_lazy("是否超期")),
]


def export_rows(*, user, filters: CaseFilter, limit: int | None = None):
    """(header, row iterator) of the filtered cases with every stage time; 400 over the limit."""
    limit = EXPORT_MAX_ROWS if limit is None else limit
    qs = filters.apply(cases_for(user))
    total = qs.count()
    if total > limit:
        raise InvalidInput(
            _("导出 %(rows)s 行，超过上限 %(limit)s 行，请缩小时间段或筛选条件。") % {"rows": total, "limit": limit},
            code="too_many_rows",
            field="limit",
            extra={"limit": limit, "rows": total},
        )
    names = [f for f, _label in EXPORT_FIELDS if f not in ("lon", "lat", "overdue")]
    now = timezone.now()
    tz = timezone.get_current_timezone()
    rows = (
        qs.order_by("-reported_at", "-id")
        .annotate(lon=RawSQL("ST_X(patrol_issue.point)", ()), lat=RawSQL("ST_Y(patrol_issue.point)", ()))
        .values(*names, "lon", "lat")
    )
    labels = {
        "status": {k: str(v) for k, v in Status.choices},
        "source": {k: str(v) for k, v in Source.choices},
        "priority": {k: str(v) for k, v in Priority.choices},
    }
    yes, no = _("是"), _("否")

    def gen():
        for r in rows.iterator(chunk_size=2000):
            out = []
            for f, _label in EXPORT_FIELDS:
                if f == "overdue":  # as patrol.models.overdue_q: late while the unit has the work
                    late = r["deadline"] and r["status"] in CLOCK_STATUSES and r["deadline"] < now
                    out.append(yes if late else no)
                    continue
                v = r[f]
                if isinstance(v, dt.datetime):
                    v = timezone.localtime(v, tz).replace(tzinfo=None)
                elif f in labels:
                    v = labels[f].get(v, v)
                elif f in ("lon", "lat"):
                    v = round(v, 6)
                out.append(v)
            yield out

    return [str(label) for _f, label in EXPORT_FIELDS], gen()


def csv_text(value):
    """A CSV cell that no spreadsheet runs as a formula (None → empty)."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def csv_response(header, rows, filename: str) -> StreamingHttpResponse:
    def stream():
        buf = io.StringIO()
        writer = csv.writer(buf)
        buf.write("\ufeff")  # so Excel opens UTF-8 Chinese text correctly
        writer.writerow(header)
        for i, row in enumerate(rows):
            writer.writerow([csv_text(v) for v in row])
            if i % 500 == 0:
                yield buf.getvalue()
                buf.seek(0)
                buf.truncate()
        yield buf.getvalue()

    response = StreamingHttpResponse(stream(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def xlsx_text(value: str) -> str:
    """XML 1.0 cannot hold most control characters; stored text (a note typed or pasted
    anywhere) may: drop them from this copy only. Line ends become LF (what an XML reader
    makes of a stored CR anyway; XlsxWriter would write it as ``_x000D_``, which Excel reads
    back but openpyxl and pandas do not)."""
    return ILLEGAL_CHARACTERS.sub("", value.replace("\r\n", "\n").replace("\r", "\n"))


def xlsx_response(header, rows, filename: str) -> HttpResponse:
    """The rows as one XLSX sheet, written by XlsxWriter row by row (constant memory): about
    5x openpyxl's speed, which took 40 s for a city's year of cases (36,000 rows)."""
    out = io.BytesIO()
    wb = xlsxwriter.Workbook(
        out,
        {
            "constant_memory": True,
            # text stays text: never a formula, a link or a number
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
            "default_date_format": "yyyy-mm-dd hh:mm:ss",
        },
    )
    ws = wb.add_worksheet(_("案件"))
    ws.write_row(0, 0, header)
    for r, row in enumerate(rows, start=1):
        for c, value in enumerate(row):
            if value is None:
                continue
            if isinstance(value, str):
                ws.write_string(r, c, xlsx_text(value))
            elif isinstance(value, dt.datetime):
                ws.write_datetime(r, c, value)
            else:
                ws.write(r, c, value)
    wb.close()
    response = HttpResponse(out.getvalue(), content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
