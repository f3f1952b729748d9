"""Imagery app on the real PostGIS: scenes, jobs, candidates, flags, review, API, CLI, bad input.

Scenes are synthetic GF-2 pairs from geodata.raster.synth, 512x512 px at 4 m (≈2 km square)
centred on West Lake (synth centres on the middle of XIHU_BOUNDS), so they overlap the demo grid.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from io import StringIO

import numpy as np
import pytest
import rasterio
from affine import Affine
from django.contrib.gis.geos import MultiPolygon, Polygon
from django.core.management import CommandError, call_command
from django.utils import timezone

from geodata import selectors, services
from geodata.demo import XIHU_BOUNDS
from geodata.models import CandidateReview, ChangeCandidate, DetectionJob, GridCellSummary, Scene
from geodata.raster.synth import make_scene_pair
from geodata.services import running
from geodata.services.candidates import violation_for
from gridgov.errors import Conflict, Forbidden, InvalidInput
from gridgov.models import AdminArea, Role, User
from zoning.models import ControlUnit, Zone
from zoning.selectors import ZoneHit

pytestmark = pytest.mark.django_db

D0, D1 = dt.date(2024, 4, 1), dt.date(2025, 4, 1)


@pytest.fixture(scope="module")
def pair_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("pair")
    make_scene_pair(d, seed=3, width=512, height=512, bounds=XIHU_BOUNDS, n_changes=14)
    return d


@pytest.fixture
def analyst(db):
    user = User.objects.create(username="test_analyst", role=Role.IMAGERY_ANALYST)
    user.scope.set(AdminArea.objects.filter(code="330100"))
    return user


@pytest.fixture
def scenes(pair_dir):
    b = services.scene_register(path=pair_dir / "before.tif", sensor="gf2", acquired=D0)
    a = services.scene_register(path=pair_dir / "after.tif", sensor="gf2", acquired=D1)
    return b, a


@pytest.fixture
def job(scenes, analyst):
    j = services.job_create(before=scenes[0], after=scenes[1], user=analyst, defer=False)
    return services.job_run(j)


def test_scene_register_reads_crs_footprint_and_date(scenes):
    b, a = scenes
    assert b.crs == "EPSG:32651" and b.band_count == 4 and b.width == 512 and b.footprint.srid == 4326
    c = b.footprint.centroid
    assert abs(c.x - 120.125) < 0.01 and abs(c.y - 30.24) < 0.01
    assert b.acquired == D0 and a.acquired == D1
    # re-registering the same path updates, never duplicates
    services.scene_register(path=b.path, sensor="gf2", acquired=D0)
    assert Scene.objects.filter(path=b.path).count() == 1


def test_scene_register_without_date_names_the_file(pair_dir):
    with pytest.raises(InvalidInput) as e:
        services.scene_register(path=pair_dir / "before.tif", sensor="gf2")
    assert e.value.field == "acquired" and "before.tif" in e.value.message


def test_job_run_stores_candidates_cells_and_summaries(job):
    assert job.status == "done" and job.progress == 1.0
    cands = list(job.candidates.all())
    assert len(cands) >= 3 and job.candidate_count == len(cands)
    assert {c.change_type for c in cands} <= {"vegetation_loss", "construction", "water_change"}
    assert all(c.grid_cell_id and c.township_id and c.district_id for c in cands)
    assert all(c.geom.srid == 4326 and c.area_m2 >= 500 and 0 <= c.confidence <= 1 for c in cands)
    rows = GridCellSummary.objects.filter(job=job)
    assert rows.exists()
    assert sum(r.candidate_count for r in rows) == len(cands)
    changed = sum(r.changed_m2 for r in rows)
    # zonal areas count every changed pixel, candidates only those above the mapping unit
    assert changed >= 0.8 * sum(c.area_m2 for c in cands)


def test_rerun_same_pair_replaces_and_keeps_reviews(job, analyst):
    first = list(job.candidates.order_by("-area_m2"))
    reviewed = first[0]
    services.candidate_dismiss(candidate=reviewed, user=analyst, reason="合法施工，已批复")
    j2 = services.job_run(services.job_create(before=job.before, after=job.after, user=analyst, defer=False))
    assert ChangeCandidate.objects.filter(job__before=job.before, job__after=job.after).count() == len(first)
    assert job.candidates.count() == 0
    reviewed.refresh_from_db()
    assert reviewed.job_id == j2.pk and reviewed.status == "dismissed"
    assert CandidateReview.objects.filter(candidate=reviewed).count() == 1


def _zone_rows(geom, *, red_line=False, category=None, access_list=None):
    mp = MultiPolygon(Polygon.from_bbox(geom.extent), srid=4326)
    now = timezone.now()
    if red_line:
        Zone.objects.create(code="RLTEST01", name="测试红线", layer="red_line", geom=mp, updated_at=now)
    if category:
        digit = {"priority": "1", "key": "2", "general": "3"}[category]
        unit = ControlUnit(
            code=f"ZH330106{digit}9999",
            name="测试单元",
            category=category,
            geom=mp,
            updated_at=now,
            access_list=access_list or [],
        )
        unit.full_clean(exclude=["district"])  # the access list is validated on write
        unit.save()


def test_violation_flags_red_line(scenes, analyst):
    b, a = scenes
    _zone_rows(b.footprint, red_line=True)
    job = services.job_run(services.job_create(before=b, after=a, defer=False))
    assert all(c.violation and "生态保护红线" in c.violation_reason for c in job.candidates.all())
    assert all("RLTEST01" in c.zone_codes for c in job.candidates.all())


def test_violation_flags_construction_where_the_access_list_forbids_it(scenes, analyst):
    b, a = scenes
    ban = "禁止新建、扩建工业项目"
    items = [{"dimension": "spatial", "text": ban, "forbids_construction": True}]
    _zone_rows(b.footprint, category="key", access_list=items)
    job = services.job_run(services.job_create(before=b, after=a, defer=False))
    built = list(job.candidates.filter(change_type="construction"))
    # (the demo zoning lies here too and adds its own reasons; this unit's reason is in each)
    reason = f"新增建设位于准入清单禁止建设的单元 ZH33010629999（{ban}）"
    assert built and all(reason in c.violation_reason.split("；") for c in built)
    others = job.candidates.exclude(change_type="construction")
    assert others.exists() and not others.filter(violation_reason__contains="ZH33010629999").exists()


def test_violation_construction_forbidden_by_access_list():
    hits = [ZoneHit(code="ZH33010629999", name="u", layer="control_unit", category="key")]
    text = "禁止新建、扩建工业项目"
    forbid = {"ZH33010629999": [{"dimension": "spatial", "text": text, "forbids_construction": True}]}
    assert violation_for("construction", hits, forbid).violation
    assert (
        violation_for("construction", hits, forbid).reason
        == f"新增建设位于准入清单禁止建设的单元 ZH33010629999（{text}）"
    )
    assert not violation_for("vegetation_loss", hits, forbid).violation
    assert not violation_for("construction", hits, {"ZH33010629999": []}).violation
    # the wording alone is no ban: only the planner's structured flag (zoning.rules) is
    unflagged = {"ZH33010629999": [{"dimension": "spatial", "text": text}]}
    assert not violation_for("construction", hits, unflagged).violation
    prio = [ZoneHit(code="ZH33010619999", name="p", layer="control_unit", category="priority")]
    assert violation_for("water_change", prio, {}).reason == "位于优先保护单元内（ZH33010619999）"


def test_confirm_creates_imagery_case_linked_both_ways(job, analyst):
    from patrol.models import Issue

    c = job.candidates.first()
    issue = services.candidate_confirm(candidate=c, user=analyst)
    c.refresh_from_db()
    assert issue.source == "imagery" and c.issue_id == issue.pk and c.status == "confirmed"
    assert Issue.objects.get(pk=issue.pk).imagery_candidates.get() == c
    assert selectors.candidate_for_issue(issue) == c
    with pytest.raises(Conflict):
        services.candidate_confirm(candidate=c, user=analyst)
    q = selectors.review_quality(job=job)
    assert q[0]["confirmed"] == 1 and q[0]["precision"] == 1.0


def test_case_page_links_back_to_its_candidate(job, analyst, client):
    c = job.candidates.first()
    issue = services.candidate_confirm(candidate=c, user=analyst)
    client.force_login(analyst)
    page = client.get(f"/patrol/{issue.pk}/").content.decode()
    assert 'data-testid="candidate-link"' in page and f"#candidate-{c.pk}" in page
    assert f"/imagery/chips/{c.pk}/before.png" in page
    officer = User.objects.get(username="officer")  # not an imagery reviewer: no link
    client.force_login(officer)
    assert "candidate-link" not in client.get(f"/patrol/{issue.pk}/").content.decode()


def test_review_needs_a_reviewer_role(job):
    planner = User.objects.get(username="planner")
    with pytest.raises(Forbidden):
        services.candidate_dismiss(candidate=job.candidates.first(), user=planner, reason="x")


def test_cancel_during_run_saves_nothing(scenes, analyst):
    b, a = scenes
    j = services.job_create(before=b, after=a, user=analyst, defer=False, params={"tile_size": 128})

    def cancel(done, total):
        DetectionJob.objects.filter(pk=j.pk).update(cancel_requested=True)

    running.PROGRESS_EVERY_S, old = 0.0, running.PROGRESS_EVERY_S
    try:
        j = services.job_run(j, on_progress=cancel)
    finally:
        running.PROGRESS_EVERY_S = old
    assert j.status == "cancelled" and j.candidates.count() == 0


# ----------------------------------------------------------------------------- API
def test_api_candidates_geojson_filters_and_pagination(job, user_api):
    c = user_api("city_supervisor")
    r = c.get("/api/geodata/candidates/", {"job": job.pk, "page_size": 2})
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["type"] == "FeatureCollection" and body["count"] == job.candidate_count
    assert len(body["features"]) == 2 and body["next"]
    p = body["features"][0]["properties"]
    for key in ("change_type", "area_m2", "confidence", "grid_cell", "zones", "violation", "violation_reason"):
        assert key in p
    cell = p["grid_cell"]
    viol = str(p["violation"]).lower()
    r = c.get("/api/geodata/candidates/", {"job": job.pk, "grid_cell": cell, "violation": viol, "status": "new"})
    assert r.json()["count"] >= 1
    assert all(f["properties"]["grid_cell"] == cell for f in r.json()["features"])
    assert all(str(f["properties"]["violation"]).lower() == viol for f in r.json()["features"])
    for bad in ({"job": "x"}, {"grid_cell": "12"}, {"violation": "maybe"}, {"status": "open"}):
        r = c.get("/api/geodata/candidates/", bad)
        assert r.status_code == 400 and r.json()["field"] == next(iter(bad))


def test_api_scope_hides_other_districts(job, user_api):
    outsider = User.objects.create(username="yuhang_sup", role=Role.DISTRICT_SUPERVISOR)
    outsider.scope.set(AdminArea.objects.filter(code="330110"))
    from rest_framework.test import APIClient

    c = APIClient()
    c.force_authenticate(outsider)
    assert c.get("/api/geodata/candidates/", {"job": job.pk}).json()["count"] == 0
    pk = job.candidates.first().pk
    assert c.post(f"/api/geodata/candidates/{pk}/confirm/").status_code == 404
    assert user_api("planner").get("/api/geodata/candidates/").status_code == 403


def test_api_confirm_and_dismiss(job, user_api):
    c = user_api("city_supervisor")
    first, second = list(job.candidates.all()[:2])
    r = c.post(f"/api/geodata/candidates/{first.pk}/confirm/", format="json")
    assert r.status_code == 201, r.content
    first.refresh_from_db()
    assert r.json()["issue_id"] == first.issue_id
    assert c.post(f"/api/geodata/candidates/{first.pk}/confirm/").status_code == 409
    r = c.post(f"/api/geodata/candidates/{second.pk}/dismiss/", {}, format="json")
    assert r.status_code == 400 and r.json()["field"] == "reason"
    second.refresh_from_db()
    assert second.status == "new"
    r = c.post(f"/api/geodata/candidates/{second.pk}/dismiss/", {"reason": "云影误检"}, format="json")
    assert r.status_code == 200 and r.json()["properties"]["status"] == "dismissed"


def test_api_grid_summary(job, user_api):
    r = user_api("city_supervisor").get("/api/geodata/grid-summary/", {"job": job.pk})
    assert r.status_code == 200
    cells = r.json()["cells"]
    assert cells and all(len(x["grid_cell"]) == 14 for x in cells)
    assert sum(x["candidate_count"] for x in cells) == job.candidate_count
    assert user_api("city_supervisor").get("/api/geodata/grid-summary/").json()["field"] == "job"


def test_api_jobs_start_status_cancel(scenes, user_api):
    c = user_api("city_supervisor")
    b, a = scenes
    r = c.post("/api/geodata/jobs/", {"before": b.pk, "after": a.pk, "params": {"min_area_m2": 800}}, format="json")
    assert r.status_code == 201, r.content
    jid = r.json()["id"]
    assert r.json()["status"] == "queued"
    # the worker would run it after the commit; run it here synchronously
    services.job_run(DetectionJob.objects.get(pk=jid))
    r = c.get(f"/api/geodata/jobs/{jid}/")
    assert r.json()["status"] == "done" and r.json()["progress"] == 1.0
    assert c.post(f"/api/geodata/jobs/{jid}/cancel/").status_code == 409
    r = c.post("/api/geodata/jobs/", {"before": b.pk, "after": a.pk}, format="json")
    r = c.post(f"/api/geodata/jobs/{r.json()['id']}/cancel/")
    assert r.status_code == 200 and r.json()["status"] == "cancelled"
    r = c.post("/api/geodata/jobs/", {"before": b.pk, "after": 999999}, format="json")
    assert r.status_code == 400 and r.json()["field"] == "after"
    assert (
        user_api("planner").post("/api/geodata/jobs/", {"before": b.pk, "after": a.pk}, format="json").status_code
        == 403
    )


def test_job_task_is_registered_on_the_imagery_queue():
    from geodata import tasks

    assert tasks.run_detection_job.queue == "imagery"


def test_chip_png_and_page(job, client):
    from PIL import Image

    client.force_login(User.objects.get(username="city_supervisor"))
    c = job.candidates.first()
    for which in ("before", "after"):
        r = client.get(f"/imagery/chips/{c.pk}/{which}.png")
        assert r.status_code == 200 and r["Content-Type"] == "image/png"
        im = Image.open(__import__("io").BytesIO(r.content))
        assert im.size == (256, 256)
    assert client.get(f"/imagery/chips/{c.pk}/during.png").status_code == 404
    r = client.get("/imagery/", {"job": job.pk, "all": 1})
    assert r.status_code == 200 and "合成" in r.content.decode() and f'data-id="{c.pk}"' in r.content.decode()


# ----------------------------------------------------------------------------- CLI
def test_cli_detect_changes_output_contract(pair_dir, tmp_path):
    out = tmp_path / "out.geojson"
    pair = dict(before=str(pair_dir / "before.tif"), after=str(pair_dir / "after.tif"), before_date=D0, after_date=D1)
    call_command("detect_changes", **pair, sensor="gf2", output=str(out), stdout=StringIO(), stderr=StringIO())
    fc = json.loads(out.read_text())
    assert fc["type"] == "FeatureCollection" and fc["features"]
    props = fc["features"][0]["properties"]
    assert set(props) >= {"change_type", "area_m2", "confidence", "grid_cell", "zones", "violation", "violation_reason"}
    lon, lat = fc["features"][0]["geometry"]["coordinates"][0][0][0]
    assert 119 < lon < 121 and 29 < lat < 31
    # re-running the same pair replaces
    n = ChangeCandidate.objects.count()
    call_command("detect_changes", **pair, sensor="gf2", no_progress=True, stdout=StringIO())
    assert ChangeCandidate.objects.count() == n


def test_cli_folder_pairs_by_date(tmp_path):
    from geodata.demo import make_demo_pair

    meta = make_demo_pair(tmp_path / "xihu", size=256, seed=4)
    out = StringIO()
    call_command("detect_changes", folder=str(tmp_path), stdout=out, stderr=StringIO())
    assert "job #" in out.getvalue()
    job = DetectionJob.objects.latest("id")
    assert job.before.path == meta["before"] and job.before.synthetic


def test_cli_folder_without_pairs(pair_dir, tmp_path):
    shutil.copy(pair_dir / "before.tif", tmp_path / "only_20240101.tif")
    with pytest.raises(CommandError, match="没有可配对的影像"):
        call_command("detect_changes", folder=str(tmp_path), sensor="gf2", stdout=StringIO())
    (tmp_path / "empty").mkdir()
    with pytest.raises(CommandError, match=r"\[no_scenes\] 文件夹 empty 中没有影像产品"):
        call_command("detect_changes", folder=str(tmp_path / "empty"), sensor="gf2", stdout=StringIO())
    with pytest.raises(CommandError, match=r"\[not_a_folder\] missing 不是文件夹"):
        call_command("detect_changes", folder=str(tmp_path / "missing"), sensor="gf2", stdout=StringIO())


# ----------------------------------------------------------------------------- bad input
def _copy(src, dst, **changes):
    with rasterio.open(src) as s:
        prof = s.profile
        data = s.read()
    prof.update(changes.pop("profile", {}))
    fill = changes.pop("fill", None)
    if fill is not None:
        data[:] = fill
    with rasterio.open(dst, "w", **prof) as d:
        d.write(data[: prof["count"]])
    return dst


def test_corrupt_and_truncated_tiff(pair_dir, tmp_path):
    bad = tmp_path / "garbage_20240101.tif"
    bad.write_bytes(b"II*\x00" + b"\x00" * 100)
    with pytest.raises(InvalidInput) as e:
        services.scene_register(path=bad, sensor="gf2")
    assert "garbage_20240101.tif" in e.value.message
    raw = (pair_dir / "after.tif").read_bytes()
    cut = tmp_path / "cut_20250101.tif"
    cut.write_bytes(raw[: len(raw) // 2])
    with pytest.raises(CommandError) as e:
        call_command(
            "detect_changes",
            before=str(pair_dir / "before.tif"),
            after=str(cut),
            sensor="gf2",
            before_date=D0,
            stdout=StringIO(),
        )
    assert "cut_20250101.tif" in str(e.value)
    assert (
        ChangeCandidate.objects.count() == 0 or not ChangeCandidate.objects.filter(job__after__path=str(cut)).exists()
    )


def test_no_crs(pair_dir, tmp_path):
    f = _copy(pair_dir / "before.tif", tmp_path / "nocrs_20240101.tif", profile={"crs": None})
    with pytest.raises(InvalidInput, match="^影像 nocrs_20240101.tif 无法使用：栅格没有坐标参考系（缺少地理定位）$"):
        services.scene_register(path=f, sensor="gf2")


def test_no_overlap_and_mismatched_sensor_or_bands(pair_dir, tmp_path, scenes, user_api):
    b, _a = scenes
    n_jobs = DetectionJob.objects.count()
    with rasterio.open(pair_dir / "before.tif") as s:
        far = Affine(s.transform.a, 0, s.transform.c + 50_000, 0, s.transform.e, s.transform.f)
    f = _copy(pair_dir / "after.tif", tmp_path / "far_20250101.tif", profile={"transform": far})
    far_scene = services.scene_register(path=f, sensor="gf2")
    with pytest.raises(InvalidInput, match="far_20250101.tif.*不重叠|far_20250101.tif.*overlap"):
        services.job_create(before=b, after=far_scene, defer=False)
    r = user_api("city_supervisor").post("/api/geodata/jobs/", {"before": b.pk, "after": far_scene.pk}, format="json")
    assert r.status_code == 400 and "far_20250101.tif" in r.json()["message"]
    rgb = _copy(pair_dir / "after.tif", tmp_path / "rgb_20250101.tif", profile={"count": 3, "dtype": "uint16"})
    with pytest.raises(InvalidInput, match="^影像 rgb_20250101.tif 无法使用：传感器 gf2 需要 4 个波段，文件有 3 个$"):
        services.scene_register(path=rgb, sensor="gf2")
    drone = services.scene_register(path=rgb, sensor="drone_rgb")
    with pytest.raises(InvalidInput, match="rgb_20250101.tif.*传感器"):
        services.job_create(before=b, after=drone, defer=False)
    assert DetectionJob.objects.count() == n_jobs


def test_all_nodata_scene_fails_without_candidates(pair_dir, tmp_path, scenes):
    b, _a = scenes
    f = _copy(pair_dir / "after.tif", tmp_path / "empty_20250101.tif", fill=0)
    empty = services.scene_register(path=f, sensor="gf2")
    job = services.job_create(before=b, after=empty, defer=False)
    with pytest.raises(InvalidInput, match="empty_20250101.tif"):
        services.job_run(job)
    job.refresh_from_db()
    assert job.status == "failed" and "empty_20250101.tif" in job.message
    assert job.candidates.count() == 0 and not GridCellSummary.objects.filter(job=job).exists()
    np.testing.assert_equal(job.progress <= 1, True)
