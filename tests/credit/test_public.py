"""The public credit list (公示): GET /api/credit/public/ and /public/credit/, anonymous, by district."""

from django.test import Client

from gridgov.models import GridCell

from .conftest import days_ago
from .test_scoring import penalty


def test_public_list_after_a_penalty_and_by_district(api, user_api, enterprise, on_day):
    day = days_ago(30)
    on_day(day)  # the services' today, so the level's date is not simply the real today
    here = enterprise()  # 西湖区 330106
    there = enterprise(cell=GridCell.objects.filter(township__parent__code="330110").order_by("code").first())
    assert penalty(user_api, here.credit_code, kind="stop_production", decided_on=day).status_code == 201  # 12 − 6

    r = api.get("/api/credit/public/", {"district": "330106"})
    assert r.status_code == 200, r.content
    rows = {row["credit_code"]: row for row in r.json()}
    row = rows[here.credit_code]
    # the contract's keys (the OpenAPI schema's CreditPublicRow); district_name is the page's extra
    assert set(row) >= {"credit_code", "name", "district", "level", "since"}
    assert (row["name"], row["district"], row["level"], row["since"]) == (here.name, "330106", "blue", day.isoformat())
    assert there.credit_code not in rows and all(x["district"] == "330106" for x in r.json())

    rows = {row["credit_code"]: row for row in api.get("/api/credit/public/", {"district": "330110"}).json()}
    assert here.credit_code not in rows
    assert (rows[there.credit_code]["level"], rows[there.credit_code]["since"]) == ("green", None)  # never scored

    everyone = {row["credit_code"] for row in api.get("/api/credit/public/").json()}
    assert {here.credit_code, there.credit_code} <= everyone
    r = api.get("/api/credit/public/", {"district": "33010"})
    assert (r.status_code, r.json()["field"]) == (400, "district")

    page = Client().get("/public/credit/", {"district": "330106"}).content.decode()
    assert here.credit_code in page and there.credit_code not in page
