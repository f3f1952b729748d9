"""Products as downloaded, through the batch command and the service: SAFE zips, STAC items and
Landsat C2 folders end to end on the real PostGIS; bad products refused naming the file, with
nothing saved; the command on a fresh environment; scenes shown without server paths; jobs tied
to an area; review decisions append-only."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection, transaction

from geodata import services
from geodata.models import CandidateReview, ChangeCandidate, DetectionJob, Scene
from geodata.services.jobs import clean_params, max_workers
from gridgov.errors import Forbidden, InvalidInput
from gridgov.models import User

from .products_factory import make_landsat, make_safe, make_stac

pytestmark = pytest.mark.django_db
D21, D23 = dt.date(2021, 8, 14), dt.date(2023, 8, 15)
ROOT = Path(__file__).resolve().parents[2]


def _run(before, after, out, **kw):
    stdout = StringIO()
    call_command(
        "detect_changes", before=str(before), after=str(after), output=str(out), no_progress=True, stdout=stdout, **kw
    )
    return json.loads(out.read_text()), stdout.getvalue()


@pytest.mark.parametrize("kind", ["safe_zip", "safe_folder", "stac", "landsat"])
def test_command_runs_each_input_kind(tmp_path, kind):
    if kind == "landsat":
        b, a = make_landsat(tmp_path / "b", D21), make_landsat(tmp_path / "a", D23, changed=True, cloud=True)
        min_area = 5000
    elif kind == "stac":
        b, a = make_stac(tmp_path / "b", D21), make_stac(tmp_path / "a", D23, changed=True, cloud=True)
        min_area = 2000
    else:
        zipped = kind == "safe_zip"
        b = make_safe(tmp_path, D21, as_zip=zipped)
        a = make_safe(tmp_path, D23, changed=True, cloud=True, seed=2, as_zip=zipped)
        min_area = 2000
    fc, text = _run(b, a, tmp_path / "out.geojson", min_area=min_area)
    # the 20 ha block, in one or two pieces by change type; the 2023 offset and the cloud are handled
    assert 1 <= len(fc["features"]) <= 3
    assert sum(f["properties"]["area_m2"] for f in fc["features"]) == pytest.approx(200_000, rel=0.25)
    assert set(fc["features"][0]["properties"]) >= {"change_type", "area_m2", "confidence", "grid_cell", "zones"}
    scenes = Scene.objects.filter(path__in=[str(Path(b).resolve()), str(Path(a).resolve())])
    assert scenes.count() == 2
    expected_kind = {"safe_zip": "safe", "safe_folder": "safe", "stac": "stac", "landsat": "landsat_c2"}[kind]
    assert {s.kind for s in scenes} == {expected_kind}
    assert {s.acquired for s in scenes} == {D21, D23} and "job #" in text


def _fails(before, after, tmp_path):
    n_scenes, n_jobs = Scene.objects.count(), DetectionJob.objects.count()
    with pytest.raises(CommandError) as e:
        _run(before, after, tmp_path / "out.geojson")
    assert Scene.objects.count() == n_scenes and DetectionJob.objects.count() == n_jobs  # nothing half-saved
    assert not (tmp_path / "out.geojson").exists()
    return str(e.value)


def test_bad_products_name_the_file_and_the_problem(tmp_path):
    good = make_safe(tmp_path / "g", D21)
    missing = make_safe(tmp_path / "m", D23, drop=("B11",))
    msg = _fails(good, missing, tmp_path)
    assert msg == f"[bad_scene] 影像 {missing.name} 无法使用：产品中缺少波段 B11（20 米）"  # one language, no path
    z = make_safe(tmp_path / "z", D23, as_zip=True)
    cut = tmp_path / "S2B_MSIL2A_20230815_cut.zip"
    cut.write_bytes(z.read_bytes()[:-5000])
    msg = _fails(good, cut, tmp_path)
    assert msg.startswith(f"[bad_scene] 影像 {cut.name} 无法使用：zip 文件")  # 不完整 or 已损坏
    stac = make_stac(tmp_path / "s", D23, hrefs={"nir": "./nowhere/B08.tif"})
    msg = _fails(make_stac(tmp_path / "s0", D21), stac, tmp_path)
    assert msg == f"[bad_scene] 影像 {stac.name} 无法使用：资产 nir 的文件 ./nowhere/B08.tif 不存在"
    evil = make_stac(tmp_path / "e", D23, hrefs={"red": "http://169.254.169.254/latest/meta-data"})
    msg = _fails(make_stac(tmp_path / "e0", D21), evil, tmp_path)
    href = "http://169.254.169.254/latest/meta-data"
    assert msg == f"[unsafe_path] 影像 {evil.name} 无法使用：拒绝文件名 {href}：只接受产品内的相对路径"


def test_register_refuses_vrt_and_network_names(tmp_path):
    vrt = tmp_path / "looks_like_20240101.tif"
    vrt.write_text('<VRTDataset rasterXSize="1" rasterYSize="1"></VRTDataset>')
    for path, code in ((vrt, "bad_scene"), ("/vsicurl/http://127.0.0.1:9/x.tif", "unsafe_path")):
        with pytest.raises(InvalidInput) as e:
            services.scene_register(path=path, sensor="gf2")
        assert e.value.code == code and e.value.field == "path"


def test_command_with_no_environment(tmp_path):
    """A fresh shell: no DEBUG, no SECRET_KEY (settings keep one in var/), only the database."""
    b = make_stac(tmp_path / "b", D21)
    a = make_stac(tmp_path / "a", D23, changed=True)
    db = settings.DATABASES["default"]
    url = f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    env = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/root"), "DATABASE_URL": url}
    out = tmp_path / "out.geojson"
    cmd = [sys.executable, "manage.py", "detect_changes", "--before", str(b), "--after", str(a)]
    run = subprocess.run(
        [*cmd, "--output", str(out), "--no-progress"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    try:
        assert run.returncode == 0, run.stderr
        assert json.loads(out.read_text())["features"]
    finally:  # the child committed to the test database: remove what it wrote
        with transaction.atomic():
            paths = [str(b.resolve()), str(a.resolve())]
            DetectionJob.objects.filter(before__path__in=paths).delete()
            Scene.objects.filter(path__in=paths).delete()


def test_scene_api_shows_names_not_paths(tmp_path, user_api):
    s = services.scene_register(path=make_safe(tmp_path, D21, as_zip=True))
    body = user_api("city_supervisor").get("/api/geodata/scenes/").json()
    row = next(r for r in body if r["id"] == s.pk)
    assert row["name"].endswith(".zip") and "path" not in row and str(tmp_path) not in json.dumps(body)
    assert row["kind"] == "safe" and row["sun_zenith"] == 24.5


def test_district_supervisor_cannot_cancel_a_city_wide_job(tmp_path):
    b = services.scene_register(path=make_stac(tmp_path / "b", D21))
    a = services.scene_register(path=make_stac(tmp_path / "a", D23))
    job = services.job_create(before=b, after=a, defer=False)
    DetectionJob.objects.filter(pk=job.pk).update(area=None)  # as for a pair across districts
    with pytest.raises(Forbidden) as e:
        services.job_cancel(job=job, user=User.objects.get(username="district_supervisor"))
    assert e.value.code == "out_of_scope"
    assert services.job_cancel(job=job, user=User.objects.get(username="city_supervisor")).status == "cancelled"


def test_workers_are_capped():
    with pytest.raises(InvalidInput) as e:
        clean_params({"workers": max_workers() + 1})
    assert e.value.field == "workers"


def test_review_rows_are_append_only(tmp_path):
    b = services.scene_register(path=make_stac(tmp_path / "b", D21))
    a = services.scene_register(path=make_stac(tmp_path / "a", D23, changed=True))
    job = services.job_run(services.job_create(before=b, after=a, defer=False, params={"min_area_m2": 2000}))
    cand = job.candidates.first()
    services.candidate_dismiss(candidate=cand, user=User.objects.get(username="imagery_analyst"), reason="合法施工")
    review = CandidateReview.objects.get(candidate=cand)
    for sql in (
        "UPDATE geodata_candidatereview SET reason = 'x' WHERE id = %s",
        "DELETE FROM geodata_candidatereview WHERE id = %s",
        "TRUNCATE geodata_candidatereview CASCADE",
    ):
        with pytest.raises(Exception, match="append-only"), transaction.atomic(), connection.cursor() as cur:
            cur.execute("SET CONSTRAINTS ALL IMMEDIATE")  # TRUNCATE refuses pending deferred checks
            cur.execute(sql, [review.pk] if "%s" in sql else None)
    ChangeCandidate.objects.filter(pk=cand.pk).delete()  # the reference is cut, the decision stays
    review.refresh_from_db()
    assert review.candidate_id is None and review.reason == "合法施工" and review.decision == "dismissed"


# ----------------------------------------------------------------------------- the review page
@pytest.fixture
def stac_job(tmp_path):
    b = services.scene_register(path=make_stac(tmp_path / "b", D21))
    a = services.scene_register(path=make_stac(tmp_path / "a", D23, changed=True, cloud=True))
    job = services.job_run(services.job_create(before=b, after=a, defer=False, params={"min_area_m2": 500}))
    assert job.candidate_count >= 1
    return job


def test_rerun_moves_the_count_with_the_candidates(stac_job, analyst_user):
    first = stac_job
    cand = first.candidates.first()
    services.candidate_dismiss(candidate=cand, user=analyst_user, reason="合法施工，已批复")
    second = services.job_run(services.job_create(before=first.before, after=first.after, defer=False))
    first.refresh_from_db()
    assert first.candidate_count == 0 and first.candidates.count() == 0
    assert f"#{second.pk}" in first.message and "剩余 0 个" in first.message  # no stale "N 个变化图斑"
    assert second.candidate_count == second.candidates.count() >= 1


@pytest.fixture
def analyst_user():
    return User.objects.get(username="imagery_analyst")


def test_candidates_sorted_and_filtered(stac_job, user_api):
    c = user_api("city_supervisor")
    feats = c.get("/api/geodata/candidates/", {"job": stac_job.pk, "sort": "area"}).json()["features"]
    areas = [f["properties"]["area_m2"] for f in feats]
    assert areas == sorted(areas, reverse=True)
    small = min(areas)
    r = c.get("/api/geodata/candidates/", {"job": stac_job.pk, "min_area": small + 1}).json()
    assert r["count"] == sum(a >= small + 1 for a in areas)
    kind = feats[0]["properties"]["change_type"]
    r = c.get("/api/geodata/candidates/", {"job": stac_job.pk, "change_type": kind}).json()
    assert r["count"] >= 1 and {f["properties"]["change_type"] for f in r["features"]} == {kind}
    for bad in ({"sort": "random"}, {"change_type": "fire"}, {"min_area": "-1"}):
        body = c.get("/api/geodata/candidates/", bad).json()
        assert body["field"] == next(iter(bad)) and body["code"] in ("invalid_choice", "min_value")


def test_bad_filter_keeps_the_page(client, stac_job):
    client.force_login(User.objects.get(username="city_supervisor"))
    r = client.get("/imagery/", {"job": "abc", "all": 1})
    page = r.content.decode()
    assert r.status_code == 400
    assert 'data-testid="filters"' in page and 'data-testid="job-list"' in page and 'data-testid="filter-error"' in page
    assert "任务编号" in page and "<html" in page
    r = client.get("/imagery/", {"job": stac_job.pk, "all": 1, "sort": "area"})
    assert (
        r.status_code == 200
        and f'data-id="{stac_job.candidates.order_by("-area_m2").first().pk}"' in r.content.decode()
    )


def test_chips_are_cached_on_disk(client, stac_job):
    from geodata.views import chip_path

    client.force_login(User.objects.get(username="city_supervisor"))
    cand = stac_job.candidates.first()
    path = chip_path(cand, "after")
    path.unlink(missing_ok=True)
    first = client.get(f"/imagery/chips/{cand.pk}/after.png")
    assert first.status_code == 200 and first["Content-Type"] == "image/png" and path.is_file()
    assert str(path).startswith(str(settings.VAR_DIR))
    # the scene's files gone: the cached chip is still served, byte for byte
    folder = Path(stac_job.after.path).parent
    for f in folder.glob("*.tif"):
        f.rename(f.with_suffix(".gone"))
    again = client.get(f"/imagery/chips/{cand.pk}/after.png")
    assert again.status_code == 200 and again.content == first.content
    assert client.get(f"/imagery/chips/{cand.pk}/before.png").status_code == 200
    chip_path(cand, "before").unlink(missing_ok=True)
    path.unlink()
    assert client.get(f"/imagery/chips/{cand.pk}/after.png").status_code == 410
