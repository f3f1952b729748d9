"""Codes of pollution sources: the unified social credit code (GB 32100-2015) and its check
character, permit numbers and outlet codes."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

# GB 32100-2015: 31 characters (no I, O, S, V, Z), weights 3^i mod 31 for the first 17.
CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
PERMIT_NUMBER = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{18}[0-9]{3}[A-Z]$")
OUTLET_CODE = re.compile(r"^D[AW][0-9]{3}$")


def check_character(first17: str) -> str:
    """The 18th character of a credit code: 31 − (Σ value × weight mod 31), 31 read as 0."""
    total = sum(CHARSET.index(ch) * w for ch, w in zip(first17, WEIGHTS, strict=True))
    return CHARSET[(31 - total % 31) % 31]


def credit_code_problem(code: str) -> str | None:
    """None for a valid credit code, else a stable code of what is wrong."""
    if len(code) != 18:
        return "length"
    if any(ch not in CHARSET for ch in code):
        return "charset"
    if check_character(code[:17]) != code[17]:
        return "check_character"
    return None


# Said after the field's label ("统一社会信用代码：校验码不正确。").
MESSAGES = {
    "length": _("应为 18 位。"),
    "charset": _("含有不允许的字符（只允许数字和除 I、O、S、V、Z 以外的大写字母）。"),
    "check_character": _("校验码不正确。"),
}


def credit_code_validator(value: str) -> None:
    problem = credit_code_problem(value)
    if problem:
        raise ValidationError(MESSAGES[problem], code=problem)
