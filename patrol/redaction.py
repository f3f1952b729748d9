"""Redaction of text to publish (曝光): personal data out, the facts of the case in.

What goes: mobile and landline numbers in the ways people write them (138 0013 8000,
+86-138-0013-8000, 0571-8888 8888, (0571)88888888, digits after 电话/手机/微信/QQ), resident ID
numbers (18 digits or X, and the old 15-digit form), e-mail addresses, licence plates, and
people's names. A name is recognised three ways, because Chinese text has no capitals or spaces
to mark one:

- the names the platform knows for this case (reporter, citizen contact, the people who acted
  on it, the cell's staff), passed in by the caller;
- a common surname after a word that introduces a person (联系人, 举报人, 业主, 姓名 …);
- a common surname before a form of address (先生, 女士, 师傅, 老板 …).

A name becomes its surname followed by 某 (张三 → 张某, 欧阳修 → 欧阳某), as published Chinese
decisions and notices write it; a name known to the platform whose surname cannot be told
becomes 某某. Full-width digits count as digits. It errs on the side of removing: a phrase that
only looks like a name after such a word loses its tail, which a supervisor sees in the preview
of the published text before publishing (the case page shows it).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

# The most common single-character surnames (about 85% of the population) and the compound ones.
SURNAMES_COMPOUND = (
    "欧阳 司马 诸葛 上官 东方 皇甫 尉迟 公孙 慕容 长孙 宇文 司徒 夏侯 令狐 端木 西门 南宫 独孤 轩辕 呼延".split()
)
SURNAMES_SINGLE = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟"
    "谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤常温康施文牛樊葛邢安"
    "齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符舒阮柯纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛"
    "靳管柴蒙鲍华喻祁蒲房滕屈饶解牟艾尤阳时穆农司卓古吉缪简车项连芦麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂全佟应"
    "臧闵苟邬边卞姬师和仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩明佘池查麻苑迟邝"
)
# Surnames that are also everyday words (和, 于, 时 …): found as a known name only, never by a cue.
_AMBIGUOUS = set("和于时明全成文安向应连解车路常单商师景宫华简古谷游查麻迟池")
_CLEAR_SINGLE = "".join(c for c in SURNAMES_SINGLE if c not in _AMBIGUOUS)
_SURNAME = "(?:" + "|".join(SURNAMES_COMPOUND) + "|[" + _CLEAR_SINGLE + "])"
_HAN = r"[\u4e00-\u9fff]"

# Words that introduce a person; the name follows, perhaps after a colon or 是/为/叫.
_CUES = (
    "联系人|举报人|投诉人|反映人|报告人|报案人|当事人|负责人|责任人|经营者|经营户|业主|户主|房东|老板|店主|厂长|法人|"
    "法定代表人|网格员|姓名|名叫|叫做"
)
# Where a name ends: a word that follows names in reports (电话, 称, 反映 …) or a non-Han character.
_AFTER = (
    "电话|手机|联系|称|说|讲|反映|反应|投诉|举报|发现|到场|现场|介绍|同意|拒绝|签字|确认|要求|告知|回复|答复|提供|拨打|上报|"
    "等人|等|家|在|于|是|和|与|及|的|已|曾|又|还|正|要|会|将|被|把|对|向|因|来|去|到|打|表示|承认|所|先生|女士|同志|了|也|就|都|不"
)
_NAME_AFTER_CUE = re.compile(
    rf"(?P<cue>{_CUES})(?P<sep>[：:\s]*(?:是|为|叫)?\s*)(?P<surname>{_SURNAME})(?P<given>{_HAN}{{1,2}}?)"
    rf"(?=[^\u4e00-\u9fff]|$|{_AFTER})"
)
# A name whose end cannot be told: its surname and the first character after it.
_NAME_AFTER_CUE_SHORT = re.compile(rf"(?P<cue>{_CUES})(?P<sep>[：:\s]*(?:是|为|叫)?\s*)(?P<surname>{_SURNAME}){_HAN}")
_TITLES = "先生|女士|小姐|师傅|老板娘|老板|阿姨|大爷|大妈|大叔|大哥|大姐"
_NAME_BEFORE_TITLE = re.compile(rf"(?P<surname>{_SURNAME})(?P<given>{_HAN}{{0,2}}?)(?P<title>{_TITLES})")

_FULLWIDTH_DIGITS = str.maketrans("０１２３４５６７８９＋－", "0123456789+-")
_SEP = r"[\s\-‐–—.]?"

# Order matters: the longest numbers first, so a phone pattern never eats part of an ID number.
_NUMBERS: list[tuple[re.Pattern, str]] = [
    # Resident ID: 6-digit area, birth date, 3-digit sequence, check digit or X; old 15-digit form.
    (
        re.compile(
            r"(?<![0-9A-Za-z])\d{6}\s?(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\s?\d{3}[\dXx](?![0-9A-Za-z])"
        ),
        "id",
    ),
    (re.compile(r"(?<![0-9A-Za-z])\d{6}\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}(?![0-9A-Za-z])"), "id"),
    (re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"), "email"),
    # Mobile, with or without +86 / 0086 / 86, in groups of 3-4-4 or run together.
    (re.compile(rf"(?<!\d)(?:(?:\+|00)?86{_SEP})?1[3-9]\d{_SEP}\d{{4}}{_SEP}\d{{4}}(?!\d)"), "phone"),
    # Landline with its area code: 0571-88888888, (0571) 8888 8888, 010 12345678.
    (re.compile(rf"(?<!\d)(?:[(（]0\d{{2,3}}[)）]\s?|0\d{{2,3}}{_SEP})\d{{3,4}}{_SEP}\d{{4}}(?!\d)"), "phone"),
    # Hotline-style numbers.
    (re.compile(rf"(?<!\d)[48]00{_SEP}\d{{3}}{_SEP}\d{{4}}(?!\d)"), "phone"),
    # Any run of digits after a word that introduces a number.
    (
        re.compile(r"(?P<cue>电话|手机|手机号|座机|联系方式|微信号?|QQ|qq|Tel|TEL|tel)(?P<sep>[：:\s]*)[\d\s\-]{5,}\d"),
        "phone",
    ),
    (re.compile(r"(?P<cue>微信号?|WeChat|wechat)(?P<sep>[：:\s]*)[A-Za-z][-_A-Za-z0-9]{5,19}"), "wechat"),
    (re.compile(r"[京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼][A-Z]·?[A-Z0-9]{5,6}"), "plate"),
]


# What stands in for a removed number. The published text is kept as a record, in the bureau's
# language whoever publishes it, so these are not translated.
PLACEHOLDERS = {
    "id": "[身份证号已隐去]",
    "email": "[邮箱已隐去]",
    "phone": "[电话已隐去]",
    "wechat": "[微信号已隐去]",
    "plate": "[车牌已隐去]",
}


def _surname_of(name: str) -> str:
    for compound in SURNAMES_COMPOUND:
        if name.startswith(compound) and len(name) > len(compound):
            return compound
    return name[0] if len(name) >= 2 and name[0] in SURNAMES_SINGLE else ""


def _known(names: Iterable[str]) -> list[str]:
    """Names worth looking for in text: Han names of two characters or more, longest first."""
    # Synthetic demo people carry a （合成） mark after their name.
    found = {re.sub(r"[（(][^）)]*[）)]$", "", n.strip()) for n in names if n}
    return sorted((n for n in found if re.fullmatch(rf"{_HAN}{{2,5}}", n)), key=len, reverse=True)


def redact(text: str, *, names: Iterable[str] = ()) -> str:
    """Remove phone, ID, e-mail, plate numbers and people's names from text to publish."""
    text = (text or "").translate(_FULLWIDTH_DIGITS)
    labels = PLACEHOLDERS
    for pattern, kind in _NUMBERS:
        if "cue" in pattern.groupindex:
            text = pattern.sub(lambda m, k=kind: m["cue"] + m["sep"] + labels[k], text)
        else:
            text = pattern.sub(labels[kind], text)
    for name in _known(names):
        surname = _surname_of(name)
        text = text.replace(name, f"{surname}某" if surname else "某某")
    for pattern in (_NAME_AFTER_CUE, _NAME_AFTER_CUE_SHORT):
        text = pattern.sub(lambda m: m["cue"] + m["sep"] + m["surname"] + "某", text)
    text = _NAME_BEFORE_TITLE.sub(lambda m: m["surname"] + "某" + m["title"] if m["given"] else m[0], text)
    return text
