"""Redaction of text to publish: names (Chinese ones, by cue word, form of address or because the
platform knows them), phone numbers as people write them, ID numbers, e-mail, plates. Expected
texts are written out by hand."""

from __future__ import annotations

import pytest

from patrol.redaction import redact


@pytest.mark.parametrize(
    ("text", "published"),
    [
        # names after a word that introduces a person: surname + 某
        ("联系人张三反映", "联系人张某反映"),
        ("举报人：李小明，称已多次投诉", "举报人：李某，称已多次投诉"),
        ("业主王五称已整改", "业主王某称已整改"),
        ("负责人刘德华到场处理", "负责人刘某到场处理"),
        ("由网格员赵六发现", "由网格员赵某发现"),
        ("姓名：诸葛亮", "姓名：诸葛某"),
        ("户主是孙七", "户主是孙某"),
        ("经营者陈某某已到场", "经营者陈某已到场"),
        # a name before a form of address
        ("欧阳修先生的店铺", "欧阳某先生的店铺"),
        ("张三师傅说明天处理", "张某师傅说明天处理"),
        # not names: left as they are
        ("群众反映河道有垃圾", "群众反映河道有垃圾"),
        ("村民和居民反映", "村民和居民反映"),
        ("负责人员已到场", "负责人员已到场"),
        ("联系人电话", "联系人电话"),
        ("刘先生反映夜间施工", "刘先生反映夜间施工"),
        # mobile numbers in the ways people write them
        ("电话13800138000", "电话[电话已隐去]"),
        ("手机 138 0013 8000", "手机 [电话已隐去]"),
        ("+86-139-1234-5678", "[电话已隐去]"),
        ("0086 13912345678", "[电话已隐去]"),
        ("１３８００１３８０００", "[电话已隐去]"),
        # landlines and hotlines
        ("0571-88888888", "[电话已隐去]"),
        ("（0571）8888 8888", "[电话已隐去]"),
        ("(010)12345678", "[电话已隐去]"),
        ("400-123-4567", "[电话已隐去]"),
        ("座机：88886666", "座机：[电话已隐去]"),
        ("QQ：123456789", "QQ：[电话已隐去]"),
        ("微信 wx_zhang2020", "微信 [微信号已隐去]"),
        # ID numbers: 18 digits (or X), spaced, and the old 15-digit form
        ("身份证330106199001011234", "身份证[身份证号已隐去]"),
        ("身份证 33010619900307123X", "身份证 [身份证号已隐去]"),
        ("330106 19900101 1234", "[身份证号已隐去]"),
        ("旧证330106900101123", "旧证[身份证号已隐去]"),
        # e-mail, plates; the rest of the sentence and its punctuation kept
        ("邮箱 zhang.san@example.com。", "邮箱 [邮箱已隐去]。"),
        ("车牌浙A12345的货车", "车牌[车牌已隐去]的货车"),
        ("路边倾倒建筑垃圾（合成）", "路边倾倒建筑垃圾（合成）"),
        # numbers that are not personal: a unified social credit code, an amount, a date
        ("统一社会信用代码91330106MA2H0XXXX1", "统一社会信用代码91330106MA2H0XXXX1"),
        ("罚款 20000 元，2026-03-01 前整改", "罚款 20000 元，2026-03-01 前整改"),
    ],
)
def test_redact(text, published):
    assert redact(text) == published


def test_known_names_anywhere_in_the_text():
    assert redact("周八到场核查，与黎宇一起", names=["周八", "黎宇（合成）", "西湖区网格员（演示）"]) == (
        "周某到场核查，与黎某一起"
    )
    assert redact("小明说", names=["小明"]) == "某某说"  # no surname to keep


def test_publish_redacts_the_case_text(report, users):
    from patrol.actions.transitions import issue_transition

    issue = report(description="联系人张三 电话 13912345678（合成）")
    sup = users["district_supervisor"]
    issue_transition(issue_id=issue.pk, action="verify", actor=sup)
    issue_transition(issue_id=issue.pk, action="publish", actor=sup)
    issue.refresh_from_db()
    assert issue.public_description == "联系人张某 电话 [电话已隐去]（合成）"
