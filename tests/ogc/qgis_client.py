"""Read GridGov with QGIS's own Python API, headless (run by Debian's python3 with python3-qgis).

    QT_QPA_PLATFORM=offscreen python3 qgis_client.py <base url> <json of probes>

Loads the control units as an OAPIF layer with a filter, and as a vector-tile layer styled from
its style.json, renders the tiles at each probe point and prints one JSON object: feature
counts, the style's layer names and the colour of the centre pixel at each probe. Used by
tests/ogc/test_interop.py; it only reports, the test judges.
"""

from __future__ import annotations

import json
import math
import os
import sys

from qgis.core import (
    QgsApplication,
    QgsCoordinateReferenceSystem,
    QgsMapRendererSequentialJob,
    QgsMapSettings,
    QgsRectangle,
    QgsVectorLayer,
    QgsVectorTileLayer,
)
from qgis.PyQt.QtCore import QSize
from qgis.PyQt.QtGui import QColor


def mercator(lon: float, lat: float) -> tuple[float, float]:
    x = lon * 20037508.342789244 / 180
    y = math.log(math.tan((90 + lat) * math.pi / 360)) * 6378137.0
    return x, y


def main() -> None:
    base, probes = sys.argv[1], json.loads(sys.argv[2])
    app = QgsApplication([], False)
    app.initQgis()
    out: dict = {}

    uri = f"url='{base}/ogc' typename='control-units'"
    layer = QgsVectorLayer(uri, "units", "OAPIF")
    out["oapif_valid"] = layer.isValid()
    out["oapif_all"] = sum(1 for _ in layer.getFeatures())
    out["oapif_subset_set"] = layer.setSubsetString(probes["subset"])
    out["oapif_filtered_codes"] = sorted(f["code"] for f in layer.getFeatures())

    tiles = (
        f"type=xyz&url={base}/tiles/control-units/{{z}}/{{x}}/{{y}}.pbf&zmin=0&zmax=22"
        f"&styleUrl={base}/tiles/control-units/style.json"
    )
    vt = QgsVectorTileLayer(tiles, "units-tiles")
    out["tiles_valid"] = vt.isValid()
    message, ok = vt.loadDefaultStyle()
    out["style_loaded"], out["style_message"] = bool(ok), message
    renderer = vt.renderer()
    out["style_layers"] = [s.styleName() for s in renderer.styles()] if renderer else []

    settings = QgsMapSettings()
    settings.setLayers([vt])
    settings.setDestinationCrs(QgsCoordinateReferenceSystem("EPSG:3857"))
    settings.setOutputSize(QSize(200, 200))
    settings.setBackgroundColor(QColor(255, 255, 255))
    out["pixels"] = {}
    for name, (lon, lat) in probes["points"].items():
        x, y = mercator(lon, lat)
        half = 150.0  # metres: a 300 m window, zoom ~14 at 200 px
        settings.setExtent(QgsRectangle(x - half, y - half, x + half, y + half))
        job = QgsMapRendererSequentialJob(settings)
        job.start()
        job.waitForFinished()
        colour = job.renderedImage().pixelColor(100, 100)
        out["pixels"][name] = [colour.red(), colour.green(), colour.blue()]
    print(json.dumps(out, ensure_ascii=False), flush=True)
    # QGIS 3.22 can crash tearing down providers at exit; the report is out, so leave at once.
    os._exit(0)


if __name__ == "__main__":
    main()
