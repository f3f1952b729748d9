"""Raster errors as users read them: the product's name (never the server path) and the
problem, in a translated sentence."""

from __future__ import annotations

from pathlib import Path

from django.utils.translation import gettext as _

from .raster import RasterError


def scene_problem(exc: RasterError) -> str:
    return _("影像 %(name)s 无法使用：%(problem)s") % {"name": Path(exc.path).name, "problem": exc.problem}
