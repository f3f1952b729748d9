"""The words the zoning pages' scripts write (static/zoning/*.js), in the request's language.

The pages pass them as JSON (`json_script`), so that every string a script builds comes from the
.po file like the templates' own; `%(name)s` placeholders are filled in by the script
(ZoningCommon.fmt). Names of categories, layers, dimensions and actions come from the models.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from .models import Action, Category
from .services import MAX_REASON


def _choices(choices) -> dict[str, str]:
    return {value: str(label) for value, label in choices}


def common() -> dict:
    return {
        "categories": _choices(Category.choices),
        "legend": _("图例"),
        "redLine": _("生态保护红线（虚线）"),
        "requestFailed": _("请求失败，请稍后重试。"),
        # Leaflet-Geoman's own words are its locale's (zh or en); these replace the few that do
        # not say what the tool does here.
        "geoman": {
            "buttonTitles": {
                "cutButton": _("挖洞：在选中的单元内画出要挖去的范围"),
                "drawPolyButton": _("绘制新单元或选址（多边形）"),
                "drawRectButton": _("绘制新单元或选址（矩形）"),
                "editButton": _("编辑节点"),
                "dragButton": _("拖动"),
            }
        },
    }


def editor() -> dict:
    return {
        **common(),
        "actions": _choices(Action.choices),
        "attributes": {
            "name": _("名称"),
            "category": _("管控类别"),
            "district_code": _("所在区县"),
            "access_list": _("准入清单"),
            "synthetic": _("合成数据"),
            "subtype": _("子类"),
        },
        "maxReason": MAX_REASON,
        "gap": _("未覆盖区域（编辑后留下的空缺）"),
        "overlap": _("重叠部分"),
        "selected": _("当前选中单元"),
        "newUnit": _("新绘制的单元（未保存）"),
        "version": _("第 %(version)s 版"),
        "hectares": _("%(ha)s 公顷"),
        "saved": _("已保存：第 %(version)s 版。"),
        "deleted": _("已删除单元 %(code)s（第 %(version)s 版）。"),
        "saveFailed": _("保存失败。"),
        "invalidGeometry": _("几何无效"),
        "acceptRepair": _("采用修复后的几何"),
        "repairAccepted": _("已采用修复后的几何，请再次保存。"),
        "overlapWith": _("与 %(name)s（%(code)s）重叠 %(area)s"),
        "historyLoading": _("正在读取历史……"),
        "historyReason": _("说明"),
        "historyArea": _("面积 +%(added)s / −%(removed)s"),
        "historyAccessList": _("%(before)s 条 → %(after)s 条"),
        "revertTo": _("回退到此版"),
        "cutSelectFirst": _("请先点击选中要挖洞的单元，再用挖洞工具。"),
        "cutDone": _("已在单元内挖洞；保存后生效。"),
        "drawn": _("已绘制新单元：填写编码、名称和类别后保存；与已有单元重叠的部分将从那些单元中划出。"),
        "checking": _("正在检查……"),
        "dialogSave": _("保存 %(code)s"),
        "dialogCreate": _("新建单元 %(code)s"),
        "dialogDelete": _("删除单元 %(code)s"),
        "dialogRevert": _("将 %(code)s 回退到第 %(version)s 版"),
        "dialogImport": _("导入 %(count)s 个单元"),
        "reasonRequired": _("请填写调整说明。"),
        "reasonCount": _("%(count)s / %(max)s 字"),
        "carvedIntro": _("新范围与以下单元重叠，保存后将从中划出："),
        "carvedUnit": _("%(name)s（%(code)s）：划出 %(area)s，第 %(base)s 版 → 第 %(version)s 版"),
        "carvedWhole": _("%(name)s（%(code)s）：整个单元被覆盖，将被删除（第 %(version)s 版）"),
        "importChecking": _("正在试导入……"),
        "importChoose": _("请选择要导入的文件。"),
        "importSummary": _(
            "共 %(features)s 个要素（坐标系 %(crs)s）：新增 %(created)s，更新 %(updated)s，未通过 %(refused)s。"
        ),
        "importBans": _("其中 %(count)s 条准入要求按措辞建议标为“禁止建设”，导入后请逐条核对。"),
        "importCreated": _("将新增"),
        "importUpdated": _("将更新"),
        "importRefused": _("未通过检查（整个文件不会导入）"),
        "importFeature": _("第 %(n)s 个要素 %(code)s"),
        "importConfirm": _("确认导入"),
        "importFix": _("请修正以上问题后重新试导入：导入要么全部成功，要么不写入任何单元。"),
        "importDone": _("已导入：新增 %(created)s 个、更新 %(updated)s 个单元。"),
    }


def analyze() -> dict:
    return {
        **common(),
        "site": _("选址范围"),
        "touched": _("涉及的单元"),
        "siteArea": _("选址面积"),
        "point": _("选址为点位，无用地范围；下表为点位所在的单元与分区。"),
        "redLineConflict": _("涉及生态保护红线"),
        "outside": _("不在任何单元或分区内"),
        "code": _("编码"),
        "name": _("名称"),
        "layerCategory": _("图层 / 类别"),
        "areaM2": _("面积（m²）"),
        "hectares": _("公顷"),
        "mu": _("亩"),
        "share": _("占选址"),
        "inside": _("点位所在"),
        "yes": _("位于其内"),
        "items": _("适用准入要求"),
        "running": _("正在研判……"),
    }
