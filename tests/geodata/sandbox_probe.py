"""Run in the child of gridgov.untrusted (imports without Django): what a scene read leaves."""

from geodata import scene_read
from gridgov import untrusted


def drivers_after_reading(path: str) -> tuple[str, list[list[str]]]:
    source, _grid = scene_read.read_scene(path, sensor=None, acquired=None)
    return source.kind, untrusted.registered_gdal_drivers()
