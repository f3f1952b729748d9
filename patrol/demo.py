"""Demo data for the patrol loop: dispatch rules for every district and the Open311 key.

The cases themselves are the demo history (`dashboard.demo`): a year of synthetic cases (合成)
across the city, loaded after this.
"""

from __future__ import annotations

from django.db import transaction

from gridgov.models import AdminArea, DemoLoad, Organization

from .models import ApiKey, DispatchRule
from .open311 import demo_key

PARAMS = {"version": 2}

# The district department that handles each top-level category (the demo history routes so too).
DEPARTMENT_FOR = {
    "air": "生态环境分局",
    "water": "林业水利局",
    "solid_waste": "城市管理局",
    "noise": "生态环境分局",
    "soil": "生态环境分局",
    "ecology": "林业水利局",
    "small_polluters": "生态环境分局",
    "other": "城市管理局",
}


def load_demo(*, stdout, force: bool) -> None:
    if DemoLoad.objects.filter(name="patrol", params=PARAMS).exists() and not force:
        stdout.write("patrol demo already loaded; nothing to do")
        return
    with transaction.atomic():
        rules = _dispatch_rules()
        _open311_key()
        DemoLoad.objects.update_or_create(name="patrol", defaults={"params": PARAMS})
    stdout.write(f"patrol demo: {rules} dispatch rules, Open311 key")


def _dispatch_rules() -> int:
    count = 0
    for district in AdminArea.objects.filter(level="district"):
        default = Organization.objects.filter(name=f"{district.name}城市管理局（演示）").first()
        if default:
            DispatchRule.objects.get_or_create(
                category=None, area=district, defaults={"organization": default, "note": "演示：区县默认"}
            )
            count += 1
        for category, dept in DEPARTMENT_FOR.items():
            org = Organization.objects.filter(name=f"{district.name}{dept}（演示）").first()
            if org:
                DispatchRule.objects.get_or_create(
                    category_id=category, area=district, defaults={"organization": org, "note": "演示"}
                )
                count += 1
    return count


def _open311_key() -> None:
    ApiKey.objects.get_or_create(key=demo_key(), defaults={"name": "演示公众 App（合成）"})
