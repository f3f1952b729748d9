"""Demo imagery: a small synthetic GF-2 pair around West Lake (合成), registered and detected once.

`manage.py load_demo` calls `load_demo` after the grid is loaded. The pair is cached under
var/demo_scenes/ (written to a temporary folder and renamed into place, so two processes never
see half a scene); the detection runs synchronously once and is skipped when the demo job
exists, is done and its files are still there.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import time
from pathlib import Path

import rasterio
from django.conf import settings

from geodata.models import DetectionJob, JobStatus
from geodata.raster.synth import make_scene_pair
from geodata.services.jobs import job_create
from geodata.services.running import job_run
from geodata.services.scenes import scene_register
from gridgov.models import AdminArea, DemoLoad, Role, User

#: Around West Lake / 西湖区 (lon, lat); synth centres the scene on the middle of these bounds.
XIHU_BOUNDS = (120.05, 30.18, 120.20, 30.30)
BEFORE_DATE = dt.date(2024, 4, 15)
AFTER_DATE = dt.date(2025, 4, 20)
DEMO_SIZE = 1500
DEMO_SEED = 7
DEMO_VERSION = 2
DEMO_CHANGES = 30
ANALYST = ("imagery_analyst", "遥感分析员（演示）")


def demo_dir(size: int, seed: int) -> Path:
    return Path(settings.VAR_DIR) / "demo_scenes" / f"xihu_{size}_{seed}_v{DEMO_VERSION}"


def make_demo_pair(out: Path | None = None, *, size: int = DEMO_SIZE, seed: int = DEMO_SEED) -> dict:
    """Write (or reuse) before.tif / after.tif / truth.geojson for the demo, tagged with sensor,
    date and 合成 so that `scene_register` needs no more arguments. Returns the paths."""
    out = Path(out) if out else demo_dir(size, seed)
    done = out / "done.json"
    if done.exists():
        return json.loads(done.read_text())
    tmp = out.parent / f".{out.name}.tmp-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    pair = make_scene_pair(
        tmp,
        seed=seed,
        width=size,
        height=size,
        bounds=XIHU_BOUNDS,
        pixel_size=4.0,
        n_changes=max(12, int(DEMO_CHANGES * size * size / DEMO_SIZE**2)),
    )
    for path, day in ((pair.before, BEFORE_DATE), (pair.after, AFTER_DATE)):
        with rasterio.open(path, "r+") as ds:
            ds.update_tags(
                ACQUISITION_DATE=day.isoformat(),
                GRIDGOV_SENSOR="gf2",
                GRIDGOV_SYNTHETIC="1",
                DESCRIPTION="GridGov 合成影像（演示）",
            )
    meta = {
        "before": str(out / pair.before.name),
        "after": str(out / pair.after.name),
        "truth": str(out / pair.truth.name),
        "min_area_m2": pair.min_area_m2,
        "n_changes": pair.n_changes,
        "size": size,
        "seed": seed,
    }
    (tmp / "done.json").write_text(json.dumps(meta))
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        os.rename(tmp, out)
    except OSError:  # another process won the race: use its copy
        shutil.rmtree(tmp, ignore_errors=True)
    return json.loads(done.read_text())


def _analyst_account():
    username, name = ANALYST
    user, created = User.objects.get_or_create(username=username, defaults={"role": Role.IMAGERY_ANALYST})
    user.role = Role.IMAGERY_ANALYST
    user.first_name = name
    if created or not user.check_password(settings.DEMO_PASSWORD):
        user.set_password(settings.DEMO_PASSWORD)
    user.save()
    user.scope.set(AdminArea.objects.filter(code=settings.GRIDGOV_CITY_CODE))
    return user


def load_demo(*, stdout, force: bool = False) -> None:
    t0 = time.monotonic()
    analyst = _analyst_account()
    params = {"size": DEMO_SIZE, "seed": DEMO_SEED, "version": DEMO_VERSION}
    marker = DemoLoad.objects.filter(name="imagery").first()
    if marker and not force and marker.params.get("version") == DEMO_VERSION:
        job = DetectionJob.objects.filter(pk=marker.params.get("job"), status=JobStatus.DONE).first()
        if (
            job
            and Path(job.before.path).exists()
            and Path(job.after.path).exists()
            and Path(job.change_raster_path).exists()
        ):
            stdout.write(f"demo imagery already loaded (job #{job.pk}); nothing to do")
            return
    if marker and marker.params.get("job"):
        # An older demo run: drop its unreviewed candidates so the queue shows one demo job.
        old = DetectionJob.objects.filter(pk=marker.params["job"]).first()
        if old is not None:
            old.candidates.filter(status="new").delete()
            if not old.candidates.exists():
                old.delete()
    meta = make_demo_pair()
    before = scene_register(path=meta["before"], user=analyst)
    after = scene_register(path=meta["after"], user=analyst)
    job = job_create(before=before, after=after, user=analyst, defer=False)
    job = job_run(job)
    DemoLoad.objects.update_or_create(name="imagery", defaults={"params": {**params, "job": job.pk}})
    stdout.write(
        f"demo imagery (合成 GF-2, {DEMO_SIZE}x{DEMO_SIZE} px at 4 m around West Lake): job #{job.pk}, "
        f"{job.candidate_count} candidates in {time.monotonic() - t0:.1f}s; reviewer account "
        f"'{ANALYST[0]}' (password DEMO_PASSWORD)"
    )
