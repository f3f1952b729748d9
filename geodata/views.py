"""Pages of the imagery app: the review queue at /imagery/ and server-rendered image chips."""

from __future__ import annotations

import io

import numpy as np
import rasterio
import shapely
from affine import Affine
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET
from PIL import Image, ImageDraw
from pyproj import Transformer
from rasterio.enums import Resampling
from rasterio.vrt import WarpedVRT

from gridgov.errors import GridGovError

from . import selectors, services
from .models import CandidateStatus, ChangeType, JobStatus
from .raster.constants import sensor_profile

CHIP_PX = 256
#: Reflectance mapped to full brightness in chips (fixed, so before and after compare).
CHIP_WHITE = 0.28


def _page_error(request, exc: GridGovError):
    return render(request, "geodata/error.html", {"error": exc}, status=exc.status)


@login_required
@require_GET
def review_page(request):
    """The review queue: candidates on a map and in a list, jobs with progress, a start form."""
    user = request.user
    p = request.GET
    filters = {k: p.get(k, "") for k in ("job", "grid_cell", "violation", "status")}
    if not any(filters.values()) and "all" not in p:
        filters["status"] = CandidateStatus.NEW
    try:
        qs = selectors.candidates(user, **filters)
        jobs = list(selectors.jobs(user)[:20])
        scenes = list(selectors.scenes(user)[:200])
    except GridGovError as exc:
        return _page_error(request, exc)
    page = Paginator(qs, 20).get_page(p.get("page"))
    query = "&".join(f"{k}={v}" for k, v in filters.items() if v)
    return render(
        request,
        "geodata/review.html",
        {
            "page": page,
            "candidates": page.object_list,
            "filters": filters,
            "query": query,
            "jobs": jobs,
            "scenes": scenes,
            "statuses": CandidateStatus.choices,
            "change_types": ChangeType.choices,
            "running": [j.pk for j in jobs if j.status in (JobStatus.QUEUED, JobStatus.RUNNING)],
            "can_run_jobs": services.can_run_jobs(user),
        },
    )


def _to_crs(geom_4326, crs):
    tr = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    return shapely.transform(geom_4326, lambda xy: np.column_stack(tr.transform(xy[:, 0], xy[:, 1])))


def render_chip(candidate, which: str, *, size: int = CHIP_PX) -> bytes:
    """PNG of the scene around the candidate: both dates warped (WarpedVRT) onto one chip grid
    in the before scene's CRS, true-colour with a fixed reflectance stretch, outline in yellow."""
    job = candidate.job
    scene = job.before if which == "before" else job.after
    with rasterio.open(job.before.path) as ref:
        crs = ref.crs
        res = abs(ref.transform.a)
    g = _to_crs(shapely.from_wkb(bytes(candidate.geom.wkb)), crs)
    minx, miny, maxx, maxy = g.bounds
    cx, cy = (minx + maxx) / 2, (miny + maxy) / 2
    half = max(maxx - minx, maxy - miny) * 0.8 + 20 * res
    px = 2 * half / size
    transform = Affine(px, 0, cx - half, 0, -px, cy + half)
    prof = sensor_profile(scene.sensor, acquired=scene.acquired)
    bands = [prof.bands[r] for r in ("red", "green", "blue")]
    with (
        rasterio.open(scene.path) as src,
        WarpedVRT(
            src,
            crs=crs,
            transform=transform,
            width=size,
            height=size,
            resampling=Resampling.bilinear,
            nodata=src.nodata if src.nodata is not None else 0,
        ) as vrt,
    ):
        raw = vrt.read(bands).astype(np.float32)
    invalid = np.all(raw == (scene.nodata if scene.nodata is not None else 0), axis=0)
    refl = raw * prof.scale + prof.offset
    rgb = np.clip(refl / CHIP_WHITE, 0, 1) ** (1 / 1.6)
    img = (rgb * 255).astype(np.uint8).transpose(1, 2, 0)
    img[invalid] = (40, 40, 40)
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
        png = render_chip(candidate, which)
    except rasterio.errors.RasterioError as exc:
        return HttpResponse(f"影像无法读取：{exc}", status=410, content_type="text/plain; charset=utf-8")
    response = HttpResponse(png, content_type="image/png")
    response["Cache-Control"] = "private, max-age=3600"
    return response
