"""Access-list items get a structured `forbids_construction` flag (zoning/rules.py reads it).

Until now imagery guessed a construction ban from the wording of each item. For the units and
zones that exist, this migration sets the flag once on the spatial-layout items whose wording
says so, and records the change as a new version of each unit it touches (history is never
rewritten: the earlier versions keep their unflagged lists). The wording test is a frozen copy
of `zoning.rules.suggests_construction_ban` as it was when this migration was written.
"""

from django.db import migrations
from django.utils import timezone

FORBID_WORDS = ("禁止", "不得", "严禁")
BUILD_WORDS = ("建设", "新建", "扩建", "开发", "工业", "项目", "开山", "采矿")
REASON = "准入清单增加结构化的“禁止建设”标记（数据迁移，按条目措辞标出，请规划员核对）"


def _suggests_ban(item: dict) -> bool:
    text = str(item.get("text", ""))
    return (
        item.get("dimension") == "spatial"
        and any(w in text for w in FORBID_WORDS)
        and any(w in text for w in BUILD_WORDS)
    )


def flag_bans(apps, schema_editor):
    ControlUnit = apps.get_model("zoning", "ControlUnit")
    Zone = apps.get_model("zoning", "Zone")
    ZoningVersion = apps.get_model("zoning", "ZoningVersion")
    now = timezone.now()
    for model in (ControlUnit, Zone):
        for obj in model.objects.select_related("district").order_by("pk"):
            items = [dict(item) for item in obj.access_list]
            changed = False
            for item in items:
                if "forbids_construction" not in item and _suggests_ban(item):
                    item["forbids_construction"] = True
                    changed = True
            if not changed:
                continue
            layer = "control_unit" if model is ControlUnit else obj.layer
            last = ZoningVersion.objects.filter(code=obj.code).order_by("-version").values_list("version", flat=True)
            obj.access_list = items
            obj.version = (last.first() or 0) + 1
            obj.updated_at = now
            obj.save(update_fields=["access_list", "version", "updated_at"])
            ZoningVersion.objects.filter(layer=layer, code=obj.code, valid_to__isnull=True).update(valid_to=now)
            attributes = {
                "name": obj.name,
                "district_code": obj.district.code if obj.district_id else None,
                "access_list": items,
                "synthetic": obj.synthetic,
            }
            if model is ControlUnit:
                attributes["category"] = obj.category
            else:
                attributes["subtype"] = obj.subtype
            ZoningVersion.objects.create(
                layer=layer,
                code=obj.code,
                version=obj.version,
                action="update",
                reason=REASON,
                author=None,
                author_name="系统（数据迁移）",
                created_at=now,
                valid_from=now,
                valid_to=None,
                name=obj.name,
                category=getattr(obj, "category", "") if model is ControlUnit else "",
                geom=obj.geom,
                attributes=attributes,
            )


class Migration(migrations.Migration):
    dependencies = [("zoning", "0003_fewer_indexes")]

    operations = [migrations.RunPython(flag_bans, migrations.RunPython.noop)]
