"""The dashboard's one table: rendered monthly 通报 documents, kept as a cache."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class MonthlyReport(models.Model):
    """A monthly 通报 rendered for one reader's cases and language, with the state of its
    rendering in the worker. A cache, rebuilt whenever its `stamp` (the data it was made from,
    and the day: `dashboard.report_cache.stamp`) no longer matches."""

    class State(models.TextChoices):
        QUEUED = "queued", _("排队中")
        RUNNING = "running", _("生成中")
        DONE = "done", _("已生成")
        FAILED = "failed", _("生成失败")

    period = models.CharField(_("统计月份"), max_length=7)
    # Whose cases: "all" (the whole city: city-wide readers, scheduled runs) or "user:<id>".
    reader = models.CharField(_("读者范围"), max_length=32)
    language = models.CharField(_("语言"), max_length=16)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("请求人"), null=True, blank=True, on_delete=models.CASCADE
    )
    stamp = models.CharField(_("数据版本"), max_length=128)
    state = models.CharField(_("状态"), max_length=16, choices=State.choices, default=State.QUEUED)
    progress = models.PositiveSmallIntegerField(_("进度（%）"), default=0)
    stage = models.CharField(_("当前步骤"), max_length=64, blank=True)
    html = models.TextField(_("HTML"), blank=True)
    html_stamp = models.CharField(_("HTML 数据版本"), max_length=128, blank=True)
    pdf = models.BinaryField(_("PDF"), null=True, blank=True)
    error = models.CharField(_("错误"), max_length=256, blank=True)
    rendered_at = models.DateTimeField(_("生成时间"), null=True, blank=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("月度通报")
        verbose_name_plural = _("月度通报")
        constraints = [
            models.UniqueConstraint(fields=["period", "reader", "language"], name="monthlyreport_one_per_reader"),
            models.CheckConstraint(name="monthlyreport_progress_range", condition=models.Q(progress__lte=100)),
        ]

    def __str__(self) -> str:
        return f"{self.period} {self.reader} {self.language}"
