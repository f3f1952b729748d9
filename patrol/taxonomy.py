"""The category taxonomy (问题类别): code, name, default priority, deadlines in working days.

Loaded by migration 0002 and kept in step by `category_taxonomy_sync`; admins may add more.
"""

from __future__ import annotations

# (code, name, default priority, (normal, high, urgent) working days)
TAXONOMY: list[tuple[str, str, str, tuple[int, int, int]]] = [
    ("air", "大气", "normal", (10, 5, 2)),
    ("air.open_burning", "露天焚烧", "high", (3, 2, 1)),
    ("air.straw_burning", "秸秆焚烧", "high", (3, 2, 1)),
    ("air.dust", "扬尘", "normal", (7, 5, 2)),
    ("air.catering_fumes", "餐饮油烟", "normal", (10, 5, 3)),
    ("air.vocs", "挥发性有机物（VOCs）", "normal", (10, 5, 3)),
    ("water", "水", "normal", (10, 5, 2)),
    ("water.illegal_discharge", "偷排漏排", "high", (5, 3, 1)),
    ("water.black_odorous", "黑臭水体", "normal", (15, 10, 5)),
    ("water.river_litter", "河道垃圾", "normal", (5, 3, 2)),
    ("solid_waste", "固废", "normal", (10, 5, 2)),
    ("solid_waste.illegal_dumping", "非法倾倒", "normal", (5, 3, 2)),
    ("solid_waste.hazardous", "危险废物", "high", (3, 2, 1)),
    ("noise", "噪声", "normal", (10, 5, 2)),
    ("noise.construction", "施工噪声", "normal", (5, 3, 1)),
    ("noise.industrial", "工业噪声", "normal", (10, 5, 3)),
    ("soil", "土壤", "normal", (15, 10, 5)),
    ("soil.contamination", "土壤污染", "normal", (15, 10, 5)),
    ("ecology", "生态", "normal", (10, 5, 2)),
    ("ecology.red_line_encroachment", "侵占生态保护红线", "high", (10, 5, 2)),
    ("ecology.illegal_logging", "毁林", "high", (10, 5, 2)),
    ("ecology.illegal_sand_mining", "非法采砂", "high", (5, 3, 1)),
    ("small_polluters", "散乱污", "normal", (15, 10, 5)),
    ("small_polluters.workshop", "散乱污作坊", "normal", (15, 10, 5)),
    ("other", "其他", "normal", (10, 5, 2)),
]


def sync(Category) -> None:
    """Create or update the taxonomy rows (parents first)."""
    for sort, (code, name, priority, (dn, dh, du)) in enumerate(TAXONOMY):
        parent = code.split(".")[0] if "." in code else None
        Category.objects.update_or_create(
            code=code,
            defaults={
                "name": name,
                "parent_id": parent,
                "default_priority": priority,
                "days_normal": dn,
                "days_high": dh,
                "days_urgent": du,
                "sort": sort,
            },
        )
