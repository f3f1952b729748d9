"""Environmental credit (环境信用评价): evidence that moves an enterprise's score, and its history.

The default scheme follows Hangzhou's five colours on a dynamic 12-point model like Jiangsu's
(docs/credit.md): every enterprise starts at 12; each piece of evidence (an accepted case, an
online-monitoring exceedance, an administrative penalty, an inspection with problems, a
one-vote-veto finding) applies one `CreditRule`, whose points and expiry are copied onto the
`Evidence` row, so a later edit of the rule in the admin never rewrites the past. Score and level
are a pure function of the evidence (`credit.engine`); `CreditStanding` keeps the current value
and every change is a `ScoreChange`, which the database refuses to alter (migration 0002).

Enterprises are referred to by their unified social credit code (GB 32100-2015), the key of the
sources app's enterprise.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

credit_code_validator = RegexValidator(r"^[0-9A-HJ-NPQRTUWXY]{18}$", _("统一社会信用代码应为 18 位"))


class Level(models.TextChoices):
    GREEN = "green", _("绿色（环保诚信）")
    BLUE = "blue", _("蓝色（环保良好）")
    YELLOW = "yellow", _("黄色（环保警示）")
    RED = "red", _("红色（环保不良）")
    BLACK = "black", _("黑色（环保严重失信）")


class EvidenceKind(models.TextChoices):
    CASE = "case", _("案件（验收通过的违法问题）")
    EXCEEDANCE = "exceedance", _("在线监测超标")
    PENALTY = "penalty", _("行政处罚")
    INSPECTION = "inspection", _("双随机检查发现问题")
    VETO = "veto", _("一票否决")
    REWARD = "reward", _("守信加分（信用承诺且无新增扣分）")


class PenaltyKind(models.TextChoices):
    """Administrative penalty types (行政处罚法 art. 9, 环境行政处罚办法)."""

    WARNING = "warning", _("警告")
    FINE = "fine", _("罚款")
    CONFISCATION = "confiscation", _("没收违法所得")
    STOP_PRODUCTION = "stop_production", _("责令停产整治")
    PERMIT_REVOKED = "permit_revoked", _("暂扣或吊销许可证")
    DETENTION = "detention", _("移送行政拘留")
    CRIME = "crime", _("涉嫌环境犯罪移送司法")


class VetoKind(models.TextChoices):
    """One-vote-veto findings (环发〔2013〕150号): red at once."""

    NO_EIA = "no_eia", _("未批先建（未依法报批环评）")
    BYPASS = "bypass", _("私设暗管或偷排")
    HAZARDOUS_WASTE = "hazardous_waste", _("非法处置危险废物")
    DATA_FRAUD = "data_fraud", _("篡改、伪造监测数据")


class CreditScheme(models.Model):
    """The scoring scheme's numbers (one row, edited in the admin)."""

    base_score = models.SmallIntegerField(_("基础分"), default=12)
    green_min = models.SmallIntegerField(_("绿色最低分"), default=11)
    blue_min = models.SmallIntegerField(_("蓝色最低分"), default=6)
    yellow_min = models.SmallIntegerField(_("黄色最低分"), default=3)
    red_min = models.SmallIntegerField(_("红色最低分"), default=1, help_text=_("低于此分为黑色"))
    reward_points = models.PositiveSmallIntegerField(_("守信加分"), default=1)
    reward_clean_months = models.PositiveSmallIntegerField(
        _("加分所需无扣分月数"), default=3, validators=[MinValueValidator(1)]
    )
    repair_min_months = models.PositiveSmallIntegerField(
        _("信用修复最短公示期（月）"), default=3, validators=[MinValueValidator(1), MaxValueValidator(36)]
    )

    class Meta:
        verbose_name = _("信用评价方案")
        verbose_name_plural = _("信用评价方案")
        constraints = [
            models.CheckConstraint(
                name="creditscheme_bands_ordered",
                condition=Q(base_score__gte=models.F("green_min"))
                & Q(green_min__gt=models.F("blue_min"))
                & Q(blue_min__gt=models.F("yellow_min"))
                & Q(yellow_min__gt=models.F("red_min")),
            )
        ]

    def __str__(self) -> str:
        return str(_("信用评价方案"))


class CreditRule(models.Model):
    """One scoring rule: which evidence it applies to, the points and how long they count."""

    code = models.CharField(_("规则编码"), max_length=48, unique=True)
    label = models.CharField(_("名称"), max_length=96)
    kind = models.CharField(_("证据类型"), max_length=16, choices=EvidenceKind.choices)
    penalty_kind = models.CharField(_("处罚种类"), max_length=24, choices=PenaltyKind.choices, blank=True)
    veto_kind = models.CharField(_("否决事项"), max_length=24, choices=VetoKind.choices, blank=True)
    amount_min_yuan = models.DecimalField(
        _("罚款金额下限（含，元）"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    points = models.SmallIntegerField(_("分值"), help_text=_("扣分为负数，加分为正数"))
    expiry_months = models.PositiveSmallIntegerField(
        _("有效期（月）"), validators=[MinValueValidator(1), MaxValueValidator(36)], help_text=_("最长 3 年")
    )
    veto = models.BooleanField(_("一票否决（直接评为红色）"), default=False)
    repair_min_months = models.PositiveSmallIntegerField(
        _("可申请修复的最短月数"), null=True, blank=True, help_text=_("留空则用方案的最短公示期")
    )
    basis = models.CharField(_("依据"), max_length=200, blank=True)
    active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("信用评价规则")
        verbose_name_plural = _("信用评价规则")
        ordering = ["kind", "code"]
        constraints = [
            models.CheckConstraint(name="creditrule_expiry_max_3y", condition=Q(expiry_months__lte=36)),
        ]

    def __str__(self) -> str:
        return f"{self.label} ({self.code})"


class CreditStanding(models.Model):
    """An enterprise's current score and level, kept in step with its evidence."""

    credit_code = models.CharField(
        _("统一社会信用代码"), max_length=18, unique=True, validators=[credit_code_validator]
    )
    score = models.SmallIntegerField(_("信用分"))
    level = models.CharField(_("信用等级"), max_length=8, choices=Level.choices)
    level_since = models.DateField(_("评定日期"))
    commitment_on = models.DateField(_("信用承诺日期"), null=True, blank=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("信用状态")
        verbose_name_plural = _("信用状态")
        ordering = ["credit_code"]

    def __str__(self) -> str:
        return f"{self.credit_code} {self.score} {self.level}"


class Penalty(models.Model):
    """An administrative penalty decision (行政处罚决定), entered by a supervisor."""

    credit_code = models.CharField(_("统一社会信用代码"), max_length=18, db_index=True)
    decision_number = models.CharField(_("处罚决定书文号"), max_length=64, unique=True)
    decided_on = models.DateField(_("决定日期"))
    kind = models.CharField(_("处罚种类"), max_length=24, choices=PenaltyKind.choices)
    amount_yuan = models.DecimalField(_("罚款金额（元）"), max_digits=14, decimal_places=2, default=0)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("录入人"), on_delete=models.PROTECT, related_name="+"
    )
    entered_at = models.DateTimeField(_("录入时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("行政处罚")
        verbose_name_plural = _("行政处罚")
        ordering = ["-decided_on", "-id"]
        constraints = [models.CheckConstraint(name="penalty_amount_nonnegative", condition=Q(amount_yuan__gte=0))]

    def __str__(self) -> str:
        return f"{self.decision_number} {self.credit_code}"


class VetoFinding(models.Model):
    """A one-vote-veto finding (一票否决事项), entered by a supervisor."""

    credit_code = models.CharField(_("统一社会信用代码"), max_length=18, db_index=True)
    kind = models.CharField(_("否决事项"), max_length=24, choices=VetoKind.choices)
    found_on = models.DateField(_("认定日期"))
    reference = models.CharField(_("认定文书或案件编号"), max_length=64)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("录入人"), on_delete=models.PROTECT, related_name="+"
    )
    entered_at = models.DateTimeField(_("录入时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("一票否决事项")
        verbose_name_plural = _("一票否决事项")
        constraints = [
            models.UniqueConstraint(fields=["credit_code", "kind", "reference"], name="vetofinding_unique_reference")
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.credit_code}"


class Evidence(models.Model):
    """One record that moves a score, linked to its source record by (kind, source_id).

    The rule's points, veto flag and expiry are copied here when the evidence arrives. A repair
    sets `repaired_on`: the evidence stops counting, and its rows in the history stay.
    """

    credit_code = models.CharField(_("统一社会信用代码"), max_length=18, db_index=True)
    kind = models.CharField(_("证据类型"), max_length=16, choices=EvidenceKind.choices)
    source_id = models.BigIntegerField(_("来源记录编号"))
    rule_code = models.CharField(_("适用规则"), max_length=48)
    points = models.SmallIntegerField(_("分值"))
    veto = models.BooleanField(_("一票否决"), default=False)
    occurred_on = models.DateField(_("生效日期"))
    expires_on = models.DateField(_("失效日期"))
    repair_from = models.DateField(_("可申请修复日期"))
    repaired_on = models.DateField(_("修复日期"), null=True, blank=True)
    offsets = models.ForeignKey(
        "self",
        verbose_name=_("加分抵扣的扣分"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="rewards",
    )
    ended_logged = models.BooleanField(_("失效已记入历史"), default=False)
    note = models.CharField(_("说明"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("录入时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("信用证据")
        verbose_name_plural = _("信用证据")
        ordering = ["occurred_on", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "source_id"], condition=~Q(kind="reward"), name="evidence_one_per_source"
            ),
            models.CheckConstraint(
                name="evidence_expires_after_start", condition=Q(expires_on__gt=models.F("occurred_on"))
            ),
            models.CheckConstraint(
                name="evidence_reward_offsets_deduction",
                condition=Q(kind="reward", offsets__isnull=False, points__gt=0)
                | (~Q(kind="reward") & Q(points__lte=0)),
            ),
        ]
        indexes = [models.Index(fields=["expires_on"], name="evidence_expires", condition=Q(ended_logged=False))]

    def __str__(self) -> str:
        return f"{self.credit_code} {self.rule_code} {self.points}"


class ScoreChange(models.Model):
    """One change of an enterprise's score or level, with the rule that applied. Append-only."""

    class Reason(models.TextChoices):
        EVIDENCE = "evidence", _("新增证据")
        EXPIRY = "expiry", _("到期失效")
        REPAIR = "repair", _("信用修复")
        REWARD = "reward", _("守信加分")

    credit_code = models.CharField(_("统一社会信用代码"), max_length=18, db_index=True)
    at = models.DateTimeField(_("时间"), db_index=True)
    reason = models.CharField(_("原因"), max_length=16, choices=Reason.choices)
    delta = models.SmallIntegerField(_("分值变化"))
    score = models.SmallIntegerField(_("变化后信用分"))
    level = models.CharField(_("变化后等级"), max_length=8, choices=Level.choices)
    level_before = models.CharField(_("变化前等级"), max_length=8, choices=Level.choices)
    rule = models.CharField(_("适用规则"), max_length=64)
    evidence = models.ForeignKey(Evidence, verbose_name=_("证据"), on_delete=models.PROTECT, related_name="changes")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = _("信用分变化记录")
        verbose_name_plural = _("信用分变化记录")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.credit_code} {self.delta:+d} → {self.score} {self.level}"


class RepairRequest(models.Model):
    """信用修复: a request to stop counting one deduction, after its minimum display period."""

    class Status(models.TextChoices):
        PENDING = "pending", _("待审核")
        APPROVED = "approved", _("已批准")
        REFUSED = "refused", _("不予修复")

    evidence = models.ForeignKey(Evidence, verbose_name=_("扣分证据"), on_delete=models.PROTECT, related_name="repairs")
    credit_code = models.CharField(_("统一社会信用代码"), max_length=18, db_index=True)
    statement = models.TextField(_("修复说明及整改证明"), max_length=4000)
    photo_hashes = ArrayField(models.CharField(max_length=64), verbose_name=_("证明材料照片"), default=list, blank=True)
    filed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("申请人"), on_delete=models.PROTECT, related_name="+"
    )
    filed_at = models.DateTimeField(_("申请时间"))
    status = models.CharField(_("状态"), max_length=16, choices=Status.choices, default=Status.PENDING)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("审核人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("审核时间"), null=True, blank=True)
    decision_note = models.CharField(_("审核意见"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("信用修复申请")
        verbose_name_plural = _("信用修复申请")
        ordering = ["-filed_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["evidence"], condition=Q(status="pending"), name="repairrequest_one_pending_per_evidence"
            )
        ]

    def __str__(self) -> str:
        return f"{self.credit_code} #{self.evidence_id} {self.status}"
