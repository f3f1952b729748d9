"""Drawing the site-analysis report, in the child process of `gridgov.untrusted.run_isolated`.

The map (matplotlib) and the PDF (WeasyPrint) cost seconds of CPU for a public endpoint, so
they run in a limited child with a timeout, from plain data: WKB and colours in, PNG or PDF
bytes out. The PDF may load nothing but `data:` URLs (the map is one), so no text in a report
can make the renderer fetch a file or a URL. Django-free, like every child-side module; the
heavy libraries are imported in the child only.
"""

from __future__ import annotations

import io
import math

import shapely

COLORS = {"priority": "#2e8b57", "key": "#d9534f", "general": "#e0b000", "red_line": "#b30000"}


def map_png(site_wkb: bytes, shapes: list[tuple[bytes, str, str]]) -> bytes:
    """A PNG of the site (WKB) over the units and zones it touches: (WKB, colour key, code)."""
    import matplotlib  # in the child only: a second of imports the web process never needs

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import PathPatch
    from matplotlib.path import Path as MPath

    site = shapely.from_wkb(site_wkb)
    x0, y0, x1, y1 = site.bounds
    view = site.buffer(max(0.01, 0.5 * max(x1 - x0, y1 - y0)))

    def draw(ax, geom, **style) -> None:
        for poly in shapely.get_parts(geom):
            if poly.geom_type != "Polygon":
                continue
            verts, cmds = [], []
            for ring in [poly.exterior, *poly.interiors]:
                xy = list(ring.coords)
                verts += xy
                cmds += [MPath.MOVETO] + [MPath.LINETO] * (len(xy) - 2) + [MPath.CLOSEPOLY]
            ax.add_patch(PathPatch(MPath(verts, cmds), **style))

    fig, ax = plt.subplots(figsize=(6, 5), dpi=110)
    for wkb, key, code in shapes:
        color = COLORS.get(key, "#888")
        clipped = shapely.from_wkb(wkb).intersection(view)
        draw(ax, clipped, facecolor=color, alpha=0.35, edgecolor=color, linewidth=1)
        if not clipped.is_empty:
            p = clipped.representative_point()
            ax.annotate(code, (p.x, p.y), fontsize=6, ha="center")
    if site.geom_type == "Point":
        ax.plot([site.x], [site.y], marker="*", color="#0050b3", markersize=14)
    else:
        draw(ax, site, facecolor="none", edgecolor="#0050b3", linewidth=2.2)
    x0, y0, x1, y1 = view.bounds
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_aspect(1 / max(0.2, math.cos(math.radians((y0 + y1) / 2))))
    ax.tick_params(labelsize=6)
    ax.set_xlabel("lon (WGS84)", fontsize=7)
    ax.set_ylabel("lat", fontsize=7)
    buf = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return buf.getvalue()


def pdf_from_html(html: str) -> bytes:
    """The report as PDF; only `data:` URLs are loaded."""
    from weasyprint import HTML  # in the child only
    from weasyprint.urls import URLFetcher

    return HTML(string=html, url_fetcher=URLFetcher(allowed_protocols={"data"})).write_pdf()
