"""zoning/rules.py: the one sensitivity rule, the structured construction ban, and who may write."""

from __future__ import annotations

import importlib
import json

import pytest
from django.apps import apps

from gridgov.errors import Forbidden
from zoning import rules, services
from zoning.models import ControlUnit, ZoningVersion
from zoning.selectors import ZoneHit

from .conftest import X0, Y0, square

UNITS = "/api/zoning/units/"
ANALYZE = "/api/zoning/analyze/"
BAN = {"dimension": "spatial", "text": "禁止新建工业项目", "forbids_construction": True}


def hit(layer, category=None):
    return ZoneHit(code="X", name="x", layer=layer, category=category)


def test_sensitive_means_red_line_or_priority_unit():
    assert rules.is_sensitive([hit("red_line")])
    assert rules.is_sensitive([hit("control_unit", "general"), hit("control_unit", "priority")])
    assert not rules.is_sensitive([hit("control_unit", "key"), hit("control_unit", "general"), hit("water")])
    assert not rules.is_sensitive([])


def test_construction_is_forbidden_by_the_flag_not_the_wording():
    worded = [{"dimension": "spatial", "text": "禁止新建、扩建工业项目"}]  # no flag: not a ban
    assert rules.construction_bans(worded) == []
    assert rules.construction_bans([*worded, BAN]) == ["禁止新建工业项目"]
    unit = ControlUnit(access_list=[BAN])
    assert rules.forbids_construction(unit) and not rules.forbids_construction(ControlUnit(access_list=worded))


def test_the_wording_only_proposes_the_flag():
    assert rules.suggests_construction_ban("spatial", "严禁开山采矿")
    assert not rules.suggests_construction_ban("risk", "禁止新建涉及有毒有害物质的项目")  # not spatial
    assert not rules.suggests_construction_ban("spatial", "合理规划居住区与工业功能区布局")


def body(**extra):
    return {
        "code": "ZH33010629001",
        "name": "留下重点管控单元",
        "category": "key",
        "geometry": json.loads(square(X0, Y0).json),
        "access_list": [BAN, {"dimension": "pollution", "text": "达标排放"}],
        "reason": "新增",
        **extra,
    }


def test_the_flag_is_stored_validated_and_shown(clean_zoning, user_api):
    planner = user_api("planner")
    r = planner.post(UNITS, body(), format="json")
    assert r.status_code == 201, r.json()
    assert ControlUnit.objects.get().access_list == [BAN, {"dimension": "pollution", "text": "达标排放"}]
    items = r.json()["properties"]["access_list"]
    assert [i["forbids_construction"] for i in items] == [True, False]
    bad = body(
        code="ZH33010629002", access_list=[{"dimension": "pollution", "text": "x", "forbids_construction": True}]
    )
    r = planner.post(UNITS, bad, format="json")
    assert (r.status_code, r.json()["field"], r.json()["code"]) == (400, "access_list", "access_flag")
    assert "空间布局约束" in r.json()["message"]
    r = planner.post(
        UNITS, body(code="ZH33010629003", access_list=[{**BAN, "forbids_construction": "maybe"}]), format="json"
    )
    assert (r.status_code, r.json()["field"]) == (400, "access_list")
    assert ControlUnit.objects.count() == 1


def test_analysis_reports_the_ban_and_restricts(clean_zoning, planner, api):
    services.unit_create(
        code="ZH33010629001",
        name="重点",
        category="key",
        geom=square(X0, Y0),
        access_list=[BAN],
        reason="t",
        actor=planner,
    )
    site = {"geometry": json.loads(square(X0 + 0.002, Y0 + 0.002, 0.002).json)}
    r = api.post(ANALYZE, site, format="json").json()
    assert (r["verdict"], r["rule"]["id"], r["sensitive"]) == ("受限准入", "construction_ban", False)
    assert r["construction_bans"] == [{"code": "ZH33010629001", "text": "禁止新建工业项目"}]


def test_there_is_no_anonymous_write(clean_zoning):
    with pytest.raises(Forbidden):
        services.unit_create(
            code="ZH33010639001", name="x", category="general", geom=square(X0, Y0), reason="x", actor=None
        )
    assert not ControlUnit.objects.exists()


def test_the_system_writes_under_its_own_name(clean_zoning):
    actor = services.SystemActor("系统（测试）")
    unit = services.unit_create(
        code="ZH33010639001", name="x", category="general", geom=square(X0, Y0), reason="x", actor=actor
    )
    version = ZoningVersion.objects.get(code=unit.code)
    assert (version.author_id, version.author_name, unit.updated_by_id) == (None, "系统（测试）", None)


def test_the_demo_is_written_by_the_system_with_its_bans(db):
    """load_demo ran in the session's set-up: priority units carry the flagged item."""
    unit = ControlUnit.objects.filter(category="priority", synthetic=True).order_by("code").first()
    assert rules.forbids_construction(unit)
    assert ZoningVersion.objects.filter(code=unit.code).first().author_name == "系统（演示数据）"
    assert not any(rules.forbids_construction(u) for u in ControlUnit.objects.filter(category="general"))


def test_migration_0004_flags_worded_bans_with_a_new_version(clean_zoning, planner):
    worded = [{"dimension": "spatial", "text": "禁止新建化工项目"}, {"dimension": "risk", "text": "禁止新建危化项目"}]
    services.unit_create(
        code="ZH33010639001",
        name="x",
        category="general",
        geom=square(X0, Y0),
        access_list=worded,
        reason="x",
        actor=planner,
    )
    migration = importlib.import_module("zoning.migrations.0004_access_list_construction_flag")
    migration.flag_bans(apps, None)
    unit = ControlUnit.objects.get(code="ZH33010639001")
    assert unit.access_list == [{**worded[0], "forbids_construction": True}, worded[1]]
    v1, v2 = ZoningVersion.objects.filter(code=unit.code).order_by("version")
    assert (v2.version, v2.action, v2.author_name, unit.version) == (2, "update", "系统（数据迁移）", 2)
    assert v1.valid_to == v2.valid_from and v2.attributes["access_list"] == unit.access_list
    migration.flag_bans(apps, None)  # a second run finds nothing to do
    assert ZoningVersion.objects.filter(code=unit.code).count() == 2


def test_messages_name_fields_by_label_in_the_users_language(clean_zoning, user_api):
    """Chinese by default, English through the language switch (the .po file); never an internal name."""
    planner = user_api("planner")
    r = planner.post(UNITS, body(reason=""), format="json")
    # A preview (dry_run) may come without a reason, so the service asks for it (zoning/edits.py).
    assert (r.json()["field"], r.json()["code"], r.json()["message"]) == (
        "reason",
        "reason_required",
        "请填写调整说明。",
    )
    planner.cookies["django_language"] = "en"
    r = planner.post(UNITS, body(reason=""), format="json")
    assert r.json()["message"] == "Please give a reason for the change."
    r = planner.post(UNITS, body(reason="x" * 2001), format="json")
    # The label and DRF's sentence in English (the joining "%(label)s：%(problem)s" is gridgov's).
    message = r.json()["message"]
    assert message.startswith("Reason for change") and "2000" in message
    r = planner.post(UNITS, body(code="ZH33010639001"), format="json")  # digit 3 = general, body says key
    assert (r.json()["field"], r.json()["code"]) == ("category", "category_mismatch")
    assert (
        r.json()["message"]
        == 'The category digit 3 of the unit code does not match the control category "Key control unit".'
    )
