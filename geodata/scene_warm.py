"""Imported once by the fork server of gridgov.untrusted (see geodata/services/scenes.py).

Every child that reads a scene is forked from that server: rasterio, the raster core and the
drivers' start-up are done here once rather than per child. Nothing here touches a scene.
"""

from __future__ import annotations

import rasterio

from . import scene_read

with rasterio.Env():
    scene_read.register_drivers()
