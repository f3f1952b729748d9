"""The 通报's images, drawn with matplotlib as PNG data URIs (the PDF then needs no network).

matplotlib is imported on first use: it takes about a second, and only the worker (and a
first HTML view) draws reports. Titles and axis labels arrive translated. Axes of counts start
at 0 and carry whole numbers, so a month without cases shows an empty 0–1 axis, never −0.04 to
0.04.
"""

from __future__ import annotations

import base64
import io

import numpy as np
import shapely


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams["font.sans-serif"] = ["Noto Sans CJK SC", "Noto Sans CJK JP", "DejaVu Sans"]
    plt.rcParams["axes.unicode_minus"] = False
    return plt


def _png(fig) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    _plt().close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def _count_axis(ax, values) -> None:
    """A y axis of counts: from 0, whole numbers, at least up to 1."""
    from matplotlib.ticker import MaxNLocator

    top = max([0, *values])
    ax.set_ylim(0, max(1, top) * 1.12)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True, nbins=5))


def _draw_areas(ax, areas, values: dict[str, float | None] | None, cmap_name: str = "OrRd"):
    import matplotlib as mpl
    from matplotlib.collections import PatchCollection
    from matplotlib.patches import Polygon as MplPolygon

    patches, colours = [], []
    vals = [v for v in (values or {}).values() if v is not None]
    top = max(vals) if vals and max(vals) > 0 else 1
    norm = mpl.colors.Normalize(vmin=0, vmax=top)
    cmap = mpl.colormaps[cmap_name]
    for area in areas:
        geom = shapely.simplify(shapely.from_wkb(bytes(area.geom.wkb)), 0.001)
        for poly in getattr(geom, "geoms", [geom]):
            if poly.is_empty:
                continue
            patches.append(MplPolygon(np.asarray(poly.exterior.coords), closed=True))
            v = (values or {}).get(area.code)
            colours.append(cmap(norm(v)) if values is not None and v else (1, 1, 1, 0))
    coll = PatchCollection(patches, facecolor=colours, edgecolor="#555555", linewidth=0.4)
    ax.add_collection(coll)
    ax.autoscale_view()
    ax.set_aspect(1 / np.cos(np.radians(30)))
    ax.set_xticks([])
    ax.set_yticks([])
    for side in ax.spines.values():
        side.set_visible(False)
    return norm, cmap


def choropleth_png(areas, values: dict[str, float | None], title: str, legend: str) -> str:
    import matplotlib as mpl
    from matplotlib.ticker import MaxNLocator

    plt = _plt()
    fig, ax = plt.subplots(figsize=(6.4, 5.2))
    norm, cmap = _draw_areas(ax, areas, values)
    bar = fig.colorbar(mpl.cm.ScalarMappable(norm=norm, cmap=cmap), ax=ax, shrink=0.7, label=legend)
    bar.locator = MaxNLocator(integer=True)
    bar.update_ticks()
    for area in areas:
        if len(areas) <= 30:
            c = area.geom.point_on_surface
            ax.annotate(area.name, (c.x, c.y), fontsize=6, ha="center", color="#222")
    ax.set_title(title, fontsize=11)
    return _png(fig)


def heat_png(areas, lon: np.ndarray, lat: np.ndarray, title: str, legend: str) -> str:
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6.4, 5.2))
    _draw_areas(ax, areas, None)
    if len(lon):
        from matplotlib.ticker import MaxNLocator

        hb = ax.hexbin(lon, lat, gridsize=60, cmap="YlOrRd", mincnt=1, alpha=0.9, linewidths=0)
        bar = fig.colorbar(hb, ax=ax, shrink=0.7, label=legend)
        bar.locator = MaxNLocator(integer=True)
        bar.update_ticks()
    ax.set_title(title, fontsize=11)
    return _png(fig)


def bar_png(labels: list[str], values: list[int], title: str, colour: str = "#1f5fa8", rotate: int = 0) -> str:
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6.4, 3.0))
    ax.bar(range(len(values)), values, color=colour)
    ax.set_xticks(range(len(values)))
    ax.set_xticklabels(labels, rotation=rotate, fontsize=8, ha="right" if rotate else "center")
    _count_axis(ax, values)
    ax.set_title(title, fontsize=11)
    ax.spines[["top", "right"]].set_visible(False)
    for i, v in enumerate(values):
        ax.annotate(str(v), (i, v), ha="center", va="bottom", fontsize=7)
    return _png(fig)
