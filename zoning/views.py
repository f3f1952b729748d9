"""Pages of the zoning app: the unit editor and the site analysis with its printable report."""

from __future__ import annotations

import base64
import io
import json

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_POST

from gridgov import geo
from gridgov.errors import GridGovError

from . import analysis, services
from .models import Category, ControlUnit, Dimension, Zone


@login_required
def editor(request):
    """Draw, edit, cut and snap units; planners save, everyone signed in views."""
    return render(
        request,
        "zoning/editor.html",
        {
            "can_edit": services.can_edit(request.user),
            "categories": Category.choices,
            "dimensions": Dimension.choices,
        },
    )


def analyze(request):
    """智能研判: draw or upload a site and see what applies."""
    return render(request, "zoning/analyze.html", {"rules": analysis.rules()})


def map_image(site, overlaps: list[dict]) -> str:
    """A static PNG of the site and the units/zones it touches (matplotlib; base64 data URI)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import shapely
    from matplotlib.patches import PathPatch
    from matplotlib.path import Path as MPath

    colors = {"priority": "#2e8b57", "key": "#d9534f", "general": "#e0b000", "red_line": "#b30000"}
    codes = [o["code"] for o in overlaps]
    shapes = []
    for u in ControlUnit.objects.filter(code__in=codes):
        shapes.append((shapely.from_wkb(bytes(u.geom.wkb)), colors.get(u.category, "#888"), u.code))
    for z in Zone.objects.filter(code__in=codes):
        shapes.append((shapely.from_wkb(bytes(z.geom.wkb)), colors.get(z.layer, "#555"), z.code))
    site_shape = shapely.from_wkb(bytes(site.wkb))
    view = site_shape.buffer(
        max(0.01, 0.5 * max(site_shape.bounds[2] - site_shape.bounds[0], site_shape.bounds[3] - site_shape.bounds[1]))
    )

    def draw(ax, geom, **kw):
        for poly in getattr(geom, "geoms", [geom]):
            if poly.geom_type != "Polygon":
                continue
            verts, cmds = [], []
            for ring in [poly.exterior, *poly.interiors]:
                xy = list(ring.coords)
                verts += xy
                cmds += [MPath.MOVETO] + [MPath.LINETO] * (len(xy) - 2) + [MPath.CLOSEPOLY]
            ax.add_patch(PathPatch(MPath(verts, cmds), **kw))

    fig, ax = plt.subplots(figsize=(6, 5), dpi=110)
    for geom, color, code in shapes:
        clipped = geom.intersection(view)
        draw(ax, clipped, facecolor=color, alpha=0.35, edgecolor=color, linewidth=1)
        if not clipped.is_empty:
            p = clipped.representative_point()
            ax.annotate(code, (p.x, p.y), fontsize=6, ha="center")
    if site_shape.geom_type == "Point":
        ax.plot([site_shape.x], [site_shape.y], marker="*", color="#0050b3", markersize=14)
    else:
        draw(ax, site_shape, facecolor="none", edgecolor="#0050b3", linewidth=2.2)
    x0, y0, x1, y1 = view.bounds
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_aspect(1 / max(0.2, __import__("math").cos(__import__("math").radians((y0 + y1) / 2))))
    ax.tick_params(labelsize=6)
    ax.set_xlabel("lon (WGS84)", fontsize=7)
    ax.set_ylabel("lat", fontsize=7)
    buf = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


@require_POST
def report(request):
    """The printable analysis report, HTML or PDF (weasyprint), with a server-made map image."""
    try:
        geometry = json.loads(request.POST.get("geometry") or "null")
        crs = geo.parse_crs(request.POST.get("crs"))
        site = services.geometry_from_geojson(geometry, crs=crs, polygonal=False)
        result = analysis.site_analyze(site)
    except ValueError:
        return JsonResponse({"error": "invalid", "field": "geometry", "message": "geometry 不是 JSON"}, status=400)
    except GridGovError as exc:
        return JsonResponse(exc.as_body(), status=exc.status)
    context = {
        "result": result,
        "map_image": map_image(site, result["overlaps"]),
        "generated_at": timezone.localtime(),
        "project": (request.POST.get("project") or "")[:100],
        "rules": analysis.rules(),
        "user": request.user,
    }
    html = render(request, "zoning/report.html", context).content.decode()
    if request.POST.get("format") == "pdf":
        from weasyprint import HTML

        pdf = HTML(string=html, base_url=request.build_absolute_uri("/")).write_pdf()
        response = HttpResponse(pdf, content_type="application/pdf")
        response["Content-Disposition"] = 'inline; filename="zoning-analysis.pdf"'
        return response
    return HttpResponse(html)
