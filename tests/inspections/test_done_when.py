"""Issue 16's "Done when", end to end over HTTP against a live server, and the public script run
as a subprocess against that server's URL: a district supervisor makes a quarter's plan, commits
and draws; two officers find the task through the API and record a problem; the case is accepted;
the enterprise's level drops; the public page shows plan, seed and result; the script verifies."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from PIL import Image

from tests.credit.factories import make_enterprise

from .conftest import plan_body, xihu_townships

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.django_db


def _jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (120, 90, 30)).save(out, format="JPEG")
    return out.getvalue()


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """Committed data the live server can see: two key firms in a quiet township, a second
    inspector on the roster, the firm's rectification account, and API tokens."""
    from rest_framework.authtoken.models import Token

    from gridgov.models import AdminArea, GridCell, Role, User
    from inspections.models import InspectorDuty

    with django_db_blocker.unblock():
        township = list(xihu_townships())[-1]
        cells = list(GridCell.objects.filter(township=township).order_by("code")[:2])
        target = make_enterprise(7001, cell=cells[0], name="杭州示例化工有限公司（合成）")
        other = make_enterprise(7002, cell=cells[-1], name="杭州示例印染有限公司（合成）")
        second = User.objects.create(username="e2e_inspector", first_name="第二执法员（合成）", role=Role.GRID_OFFICER)
        district = AdminArea.objects.get(code="330106")
        for u in (User.objects.get(username="officer"), second):
            InspectorDuty.objects.get_or_create(user=u, area=district)
        unit = User.objects.create(username="e2e_firm", role=Role.RESPONSIBLE_UNIT, organization=target.organization)
        tokens = {
            name: Token.objects.get_or_create(user=User.objects.get(username=name))[0].key
            for name in ("district_supervisor", "officer", "e2e_inspector", "e2e_firm")
        }
    yield {"township": township.code, "target": target, "other": other, "tokens": tokens, "unit_user": unit}
    with django_db_blocker.unblock():  # other tests make their own tokens for the demo accounts
        Token.objects.filter(key__in=tokens.values()).delete()


def test_done_when(live_url, world, tmp_path):
    def client(name):
        s = requests.Session()
        s.headers["Authorization"] = f"Token {world['tokens'][name]}"
        return s

    sup, officer, second, firm = (client(n) for n in ("district_supervisor", "officer", "e2e_inspector", "e2e_firm"))
    target = world["target"].credit_code
    api = f"{live_url}/api"

    body = plan_body(
        world["township"],
        name="西湖区本季度双随机抽查（合成）",
        pools=[{"management_class": "key", "ratio": 1}],
        inspectors=["officer", "e2e_inspector"],
    )
    r = sup.post(f"{api}/inspections/plans/", json=body, timeout=60)
    assert r.status_code == 201, r.text
    pk = r.json()["id"]
    public_json = f"{live_url}/public/inspections/{pk}.json"
    seed_sha = sup.post(f"{api}/inspections/plans/{pk}/commit/", timeout=60).json()["seed_sha256"]
    assert requests.get(public_json, timeout=60).json()["seed_sha256"] == seed_sha
    drawn = sup.post(f"{api}/inspections/plans/{pk}/draw/", timeout=60).json()
    # every key source of the township at 100 %: ours, and any the sources demo put there
    assert {target, world["other"].credit_code} <= {i["credit_code"] for i in drawn["inspections"]}
    assert requests.get(public_json, timeout=60).json()["inspections"] == []  # confidential until done

    # both officers find the task on their phones
    mine = [f["properties"] for f in officer.get(f"{api}/inspections/tasks/", timeout=60).json()["features"]]
    theirs = [f["properties"] for f in second.get(f"{api}/inspections/tasks/", timeout=60).json()["features"]]
    task = next(t for t in mine if t["credit_code"] == target)
    assert task["id"] in {t["id"] for t in theirs}
    assert task["permit"]["number"].startswith(target) and task["name"] == "杭州示例化工有限公司（合成）"

    sha = officer.post(
        f"{api}/patrol/photos/", files={"photo": ("site.jpg", _jpeg(), "image/jpeg")}, timeout=60
    ).json()["sha256"]
    result = {
        "client_uuid": "1b9d6bcd-bbfd-4b2d-9b5d-ab8dfbbd4bed",
        "inspection": task["id"],
        "outcome": "problems",
        "problems": "废气处理设施停运，车间无组织排放（合成）",
        "legal_basis": "《中华人民共和国大气污染防治法》第一百零八条",
        "category": "air",
        "photo_hashes": [sha],
    }
    r = officer.post(f"{api}/inspections/results/", json=result, timeout=60)
    assert r.status_code == 201, r.text
    assert officer.post(f"{api}/inspections/results/", json=result, timeout=60).status_code == 200  # offline resend
    issue_id = r.json()["issue"]
    left = [f["properties"] for f in second.get(f"{api}/inspections/tasks/", timeout=60).json()["features"]]
    assert task["id"] not in {t["id"] for t in left}
    for t in left:
        ok = second.post(
            f"{api}/inspections/results/",
            json={"client_uuid": "2c9d6bcd-bbfd-4b2d-9b5d-ab8dfbbd4bee", "inspection": t["id"], "outcome": "pass"},
            timeout=60,
        )
        assert ok.status_code == 201, ok.text

    before = sup.get(f"{api}/credit/enterprises/{target}/", timeout=60).json()
    assert (before["score"], before["level"]) == (12, "green")
    # the closed loop: verify, dispatch to the firm, rectify with evidence, accept
    org = world["target"].organization_id
    for who, step in (
        (sup, {"action": "verify"}),
        (sup, {"action": "dispatch", "unit": org}),
        (firm, {"action": "submit_rectification", "photo_hashes": [sha], "note": "已恢复运行（合成）"}),
        (sup, {"action": "accept"}),
    ):
        r = who.post(f"{api}/patrol/issues/{issue_id}/transition/", json=step, timeout=60)
        assert r.status_code == 200, (step, r.text)
    after = sup.get(f"{api}/credit/enterprises/{target}/", timeout=60).json()
    assert (after["score"], after["level"]) == (10, "blue")
    assert (
        after["history"][-1]["rule"] == "inspection.problems"
        and after["history"][-1]["evidence"]["kind"] == "inspection"
    )
    assert after["history"][-1]["evidence"]["id"] == task["id"]

    public = requests.get(public_json, timeout=60).json()
    assert public["published"] is True and public["seed"] == drawn["seed"]
    row = next(i for i in public["inspections"] if i["credit_code"] == target)
    assert row["outcome"] == "problems" and len(row["inspectors"]) == 2
    assert "e2e_inspector" not in json.dumps(public, ensure_ascii=False)  # display names, never usernames
    page = requests.get(f"{live_url}/public/inspections/{pk}/", timeout=60).text
    assert drawn["seed"] in page and task["code"] in page and "西湖区本季度双随机抽查" in page and "<svg" in page

    run = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "verify_draw.py"), public_json],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert (run.returncode, run.stdout.strip()) == (0, "verified"), run.stdout + run.stderr

    # a tampered copy fails, naming the first difference
    forged = dict(
        public,
        inspections=[dict(public["inspections"][0], inspectors=list(reversed(public["inspections"][0]["inspectors"])))]
        + public["inspections"][1:],
    )
    path = tmp_path / "forged.json"
    path.write_text(json.dumps(forged, ensure_ascii=False), encoding="utf-8")
    run = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "verify_draw.py"), path.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 1 and run.stdout.startswith("MISMATCH inspection 1 inspectors"), run.stdout
