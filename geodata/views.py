"""Pages of the imagery app: the review queue at /imagery/ and server-rendered image chips."""

from __future__ import annotations

import hashlib
import io
import os
from contextlib import ExitStack
from pathlib import Path
from urllib.parse import urlencode

import numpy as np
import rasterio
import shapely
from affine import Affine
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import connection
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET
from PIL import Image, ImageDraw
from pyproj import Transformer
from rasterio.windows import Window

from gridgov.errors import GridGovError, InvalidInput
from gridgov.validation import validated

from . import selectors
from .api import CandidateFilter
from .models import CandidateStatus, ChangeCandidate, ChangeType, JobStatus
from .permissions import can_cancel_job, can_run_jobs
from .raster import products
from .raster.errors import RasterError
from .raster.io import DateReader

PAGE_SIZE = 25
SORT_LABELS = [
    ("violation", gettext_lazy("疑似违规优先")),
    ("area", gettext_lazy("面积从大到小")),
    ("confidence", gettext_lazy("置信度从高到低")),
    ("newest", gettext_lazy("最新任务优先")),
]
CHIP_PX = 256
#: Reflectance mapped to full brightness in chips (fixed, so before and after compare).
CHIP_WHITE = 0.28


def _page_error(request, exc: GridGovError):
    return render(request, "geodata/error.html", {"error": exc}, status=exc.status)


@login_required
@require_GET
def review_page(request):
    """The review queue: candidates on a map and in a list (worst first, filterable), jobs with
    progress, a start form. A bad filter is shown on the page, next to the filters."""
    user = request.user
    p = request.GET
    raw = {k: p.get(k, "") for k in ("job", "grid_cell", "violation", "status", "change_type", "min_area", "sort")}
    if not any(v for k, v in raw.items() if k != "sort") and "all" not in p:
        raw["status"] = CandidateStatus.NEW
    error = None
    try:
        # who may see the queue first: a role without imagery duty gets its refusal page,
        # whatever the filters say
        jobs = list(selectors.jobs(user).select_related("area")[:20])
        try:
            filters = validated(CandidateFilter, {k: v for k, v in raw.items() if v != ""})
            qs = selectors.candidates(user, **filters)
        except InvalidInput as exc:
            error, qs = exc, ChangeCandidate.objects.none()
    except GridGovError as exc:
        return _page_error(request, exc)
    for j in jobs:
        j.can_cancel = can_cancel_job(user, j)
    scenes = list(selectors.scenes(user)[:200])
    page = Paginator(qs, PAGE_SIZE).get_page(p.get("page"))
    query = urlencode({k: v for k, v in raw.items() if v})
    return render(
        request,
        "geodata/review.html",
        {
            "page": page,
            "candidates": page.object_list,
            "filters": raw,
            "filter_error": error,
            "query": query,
            "jobs": jobs,
            "scenes": scenes,
            "statuses": CandidateStatus.choices,
            "change_types": ChangeType.choices,
            "sorts": SORT_LABELS,
            "running": [j.pk for j in jobs if j.status in (JobStatus.QUEUED, JobStatus.RUNNING)],
            "can_run_jobs": can_run_jobs(user),
        },
        status=400 if error else 200,
    )


def _to_crs(geom_4326, crs):
    tr = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    return shapely.transform(geom_4326, lambda xy: np.column_stack(tr.transform(xy[:, 0], xy[:, 1])))


def render_chip(candidate, which: str, *, size: int = CHIP_PX) -> bytes:
    """PNG of the scene around the candidate: the date's product (any input kind, its own
    scale and offset) read onto one chip grid in the before grid's CRS, true colour with a
    fixed reflectance stretch, the outline in yellow."""
    job = candidate.job
    scene = job.before if which == "before" else job.after
    ref = products.source_grid(products.open_product(job.before.path, sensor=job.before.sensor))
    g = _to_crs(shapely.from_wkb(bytes(candidate.geom.wkb)), ref.crs)
    minx, miny, maxx, maxy = g.bounds
    cx, cy = (minx + maxx) / 2, (miny + maxy) / 2
    half = max(maxx - minx, maxy - miny) * 0.8 + 20 * ref.pixel_size
    px = 2 * half / size
    transform = Affine(px, 0, cx - half, 0, -px, cy + half)
    grid = products.Grid(ref.crs_wkt, tuple(transform)[:6], size, size, (size, size))
    source = products.open_product(scene.path, sensor=scene.sensor, acquired=scene.acquired)
    roles = ("red", "green", "blue")
    with ExitStack() as stack:
        window = DateReader(source, grid, roles, stack).read(Window(0, 0, size, size))
    refl = window.stack()
    rgb = np.clip(np.nan_to_num(refl, nan=0.0) / CHIP_WHITE, 0, 1) ** (1 / 1.6)
    img = (rgb * 255).astype(np.uint8).transpose(1, 2, 0)
    img[~window.valid] = (40, 40, 40)
    im = Image.fromarray(img, "RGB")
    draw = ImageDraw.Draw(im)
    inv = ~transform
    for poly in getattr(g, "geoms", [g]):
        for ring in [poly.exterior, *poly.interiors]:
            pts = [inv @ (x, y) for x, y in ring.coords]
            draw.line(pts, fill=(255, 214, 0), width=2)
    buf = io.BytesIO()
    im.save(buf, "PNG", optimize=False)
    return buf.getvalue()


def chip_path(candidate, which: str) -> Path:
    """Where a chip is cached: per database, candidate, date and scene, and the outline drawn
    (a re-run that moves a reviewed candidate redraws its chip)."""
    scene = candidate.job.before if which == "before" else candidate.job.after
    key = hashlib.sha256(bytes(candidate.geom.wkb) + scene.path.encode()).hexdigest()[:16]
    db = str(connection.settings_dict.get("NAME") or "default")
    return Path(settings.VAR_DIR) / "imagery" / "chips" / db / f"{candidate.pk}-{which}-{scene.pk}-{key}.png"


def cached_chip(candidate, which: str) -> bytes:
    path = chip_path(candidate, which)
    try:
        return path.read_bytes()
    except FileNotFoundError:
        pass
    png = render_chip(candidate, which)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_bytes(png)
    tmp.replace(path)  # atomic: a concurrent reader sees the whole chip or none
    return png


@login_required
@require_GET
def chip(request, pk: int, which: str):
    if which not in ("before", "after"):
        raise Http404
    try:
        candidate = selectors.candidate_get(request.user, pk)
    except GridGovError:
        raise Http404 from None
    try:
        png = cached_chip(candidate, which)
    except (RasterError, rasterio.errors.RasterioError):
        return HttpResponse(_("影像文件已无法读取。"), status=410, content_type="text/plain; charset=utf-8")
    response = HttpResponse(png, content_type="image/png")
    response["Cache-Control"] = "private, max-age=3600"
    return response
