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
import os

import shapely

# The pages' colours (static/zoning/common.js): the 三线一单 categories green / red / yellow.
COLORS = {
    "priority": "#2e8b57",
    "key": "#d9534f",
    "general": "#e0b000",
    "red_line": "#b30000",
    "water": "#3b7dd8",
    "air": "#8e7cc3",
    "soil": "#a0522d",
    "resource": "#5f9ea0",
}
SITE_COLOR = "#0050b3"
# fonts-noto-cjk (scripts/bootstrap.sh): the labels and the legend are Chinese by default.
CJK_FONTS = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
)


def _nice_length(metres: float) -> float:
    """The round length (1, 2 or 5 × 10^k m) nearest below a quarter of the map's width."""
    target = max(1.0, metres / 4)
    k = 10 ** math.floor(math.log10(target))
    return max(step * k for step in (1, 2, 5) if step * k <= target)


def map_png(site_wkb: bytes, shapes: list[tuple[bytes, str, str]], labels: dict[str, str]) -> bytes:
    """A PNG of the site (WKB) over the units and zones it touches: (WKB, colour key, code).

    No axes (longitudes in degrees say nothing to a reader of a planning report): a legend
    of what is drawn, a scale bar and a north arrow. `labels` holds the words, in the reader's
    language: one per colour key drawn, and "site", "north", "m", "km".
    """
    import matplotlib  # in the child only: a second of imports the web process never needs

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.font_manager import FontProperties
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch, PathPatch
    from matplotlib.path import Path as MPath

    font_path = next((p for p in CJK_FONTS if os.path.exists(p)), None)

    def font(size: float) -> FontProperties:
        return FontProperties(fname=font_path, size=size) if font_path else FontProperties(size=size)

    site = shapely.from_wkb(site_wkb)
    x0, y0, x1, y1 = site.bounds
    pad = max(0.01, 0.5 * max(x1 - x0, y1 - y0))
    view = shapely.box(x0 - pad, y0 - pad, x1 + pad, y1 + pad)

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
    drawn: list[str] = []
    placed: list[tuple[float, float]] = []
    near = 0.04 * pad
    for wkb, key, code in shapes:
        color = COLORS.get(key, "#888")
        clipped = shapely.from_wkb(wkb).intersection(view)
        dashed = key == "red_line"
        draw(
            ax,
            clipped,
            facecolor=color,
            alpha=0.35,
            edgecolor=color,
            linewidth=1.4 if dashed else 1,
            linestyle="--" if dashed else "-",
        )
        if not clipped.is_empty:
            p = clipped.representative_point()
            # Codes of shapes that share a label point (a unit inside the red line) go one under the other.
            below = sum(1 for x, y in placed if abs(x - p.x) < near and abs(y - p.y) < near)
            placed.append((p.x, p.y))
            ax.annotate(
                code,
                (p.x, p.y),
                xytext=(0, -8 * below),
                textcoords="offset points",
                ha="center",
                fontproperties=font(6),
            )
        if key not in drawn:
            drawn.append(key)
    if site.geom_type == "Point":
        ax.plot([site.x], [site.y], marker="*", color=SITE_COLOR, markersize=14)
        site_handle = Line2D([], [], marker="*", color=SITE_COLOR, linestyle="none", markersize=10)
    else:
        draw(ax, site, facecolor="none", edgecolor=SITE_COLOR, linewidth=2.2)
        site_handle = Patch(facecolor="none", edgecolor=SITE_COLOR, linewidth=2)
    x0, y0, x1, y1 = view.bounds
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    cos_lat = max(0.2, math.cos(math.radians((y0 + y1) / 2)))
    ax.set_aspect(1 / cos_lat)
    ax.set_xticks([])
    ax.set_yticks([])
    handles = [site_handle] + [
        Patch(facecolor=COLORS.get(k, "#888"), edgecolor=COLORS.get(k, "#888"), alpha=0.5) for k in drawn
    ]
    names = [labels.get("site", "")] + [labels.get(k, k) for k in drawn]
    ax.legend(handles, names, loc="upper left", prop=font(7), framealpha=0.85)
    # Scale bar (bottom left) and north arrow (top right), in axes fractions.
    width_m = (x1 - x0) * 111_320 * cos_lat
    length = _nice_length(width_m)
    frac = length / width_m
    ax.plot([0.05, 0.05 + frac], [0.05, 0.05], transform=ax.transAxes, color="#222", linewidth=3)
    text = f"{length / 1000:g} {labels.get('km', 'km')}" if length >= 1000 else f"{length:g} {labels.get('m', 'm')}"
    ax.text(0.05, 0.075, text, transform=ax.transAxes, fontproperties=font(7))
    ax.annotate(
        labels.get("north", "N"),
        xy=(0.94, 0.95),
        xytext=(0.94, 0.84),
        xycoords="axes fraction",
        ha="center",
        fontproperties=font(9),
        arrowprops={"arrowstyle": "-|>", "color": "#222"},
    )
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
