"""The default rule set (docs/credit.md): five Hangzhou colours on a dynamic 12-point model like
Jiangsu's. Loaded by migration 0002; edited afterwards in the admin (CreditRule)."""

from __future__ import annotations

# code, label, kind, penalty kind, veto kind, fine from (yuan), points, months, veto, repair after (months)
RULES: list[tuple] = [
    ("penalty.warning", "警告", "penalty", "warning", "", None, -1, 6, False, None),
    ("penalty.fine", "罚款（10 万元以下）", "penalty", "fine", "", 0, -2, 6, False, None),
    ("penalty.fine_100k", "罚款（10 万元至 100 万元）", "penalty", "fine", "", 100_000, -3, 6, False, None),
    ("penalty.fine_1m", "罚款（100 万元以上）", "penalty", "fine", "", 1_000_000, -6, 6, False, None),
    ("penalty.confiscation", "没收违法所得", "penalty", "confiscation", "", None, -2, 6, False, None),
    ("penalty.stop_production", "责令停产整治", "penalty", "stop_production", "", None, -6, 12, False, None),
    ("penalty.permit_revoked", "暂扣或吊销许可证", "penalty", "permit_revoked", "", None, -6, 12, False, None),
    ("penalty.detention", "移送行政拘留", "penalty", "detention", "", None, -6, 12, False, None),
    ("penalty.crime", "涉嫌环境犯罪移送司法", "penalty", "crime", "", None, -12, 12, True, 12),
    ("case.accepted", "案件验收通过（企业违法问题已整改）", "case", "", "", None, -1, 6, False, None),
    ("exceedance.episode", "在线监测超标排放（经验收的超标案件）", "exceedance", "", "", None, -2, 6, False, None),
    ("inspection.problems", "双随机检查发现问题（案件验收通过）", "inspection", "", "", None, -2, 6, False, None),
    ("veto.no_eia", "一票否决：未批先建", "veto", "", "no_eia", None, 0, 12, True, 12),
    ("veto.bypass", "一票否决：私设暗管或偷排", "veto", "", "bypass", None, 0, 12, True, 12),
    ("veto.hazardous_waste", "一票否决：非法处置危险废物", "veto", "", "hazardous_waste", None, 0, 12, True, 12),
    ("veto.data_fraud", "一票否决：篡改、伪造监测数据", "veto", "", "data_fraud", None, 0, 12, True, 12),
]


def load(CreditRule, CreditScheme) -> None:
    """Create the default scheme and rules (existing rows are left as the admin edited them)."""
    if not CreditScheme.objects.exists():
        CreditScheme.objects.create()
    for code, label, kind, penalty, veto_kind, amount, points, months, veto, repair in RULES:
        CreditRule.objects.get_or_create(
            code=code,
            defaults={
                "label": label,
                "kind": kind,
                "penalty_kind": penalty,
                "veto_kind": veto_kind,
                "amount_min_yuan": amount,
                "points": points,
                "expiry_months": months,
                "veto": veto,
                "repair_min_months": repair,
            },
        )
