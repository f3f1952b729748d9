"""Raster errors carry a code and parameters; the imagery app says them in one language."""

import ast
import pickle
from pathlib import Path

import pytest
from django.utils import translation

from geodata.problems import MESSAGES, scene_problem
from geodata.raster.errors import PROBLEMS, CorruptRasterError, RasterError
from geodata.raster.products.base import MissingBandError

RASTER = Path(__file__).resolve().parents[2] / "geodata" / "raster"


def _raised_codes() -> set[str]:
    """The code (second argument) of every ``…Error(path, "code", …)`` call in the raster core."""
    codes = set()
    for f in RASTER.rglob("*.py"):
        for node in ast.walk(ast.parse(f.read_text())):
            if (
                isinstance(node, ast.Call)
                and getattr(node.func, "id", "").endswith("Error")
                and len(node.args) >= 2
                and isinstance(node.args[1], ast.Constant)
            ):
                codes.add(node.args[1].value)
    return codes


def test_every_code_raised_has_an_english_problem_and_a_message():
    raised = _raised_codes()
    assert raised and raised <= set(PROBLEMS), raised - set(PROBLEMS)
    assert set(MESSAGES) == set(PROBLEMS)


def test_a_missing_band_reads_in_one_language():
    exc = MissingBandError("/srv/scenes/S2B_MSIL2A_20230815.zip", "band_missing", band="B11", res=20)
    assert exc.problem == "band B11 (20 m) is missing from the product"
    with translation.override("zh-hans"):
        assert scene_problem(exc) == "影像 S2B_MSIL2A_20230815.zip 无法使用：产品中缺少波段 B11（20 米）"
    with translation.override("en"):
        assert scene_problem(exc) == "Scene S2B_MSIL2A_20230815.zip cannot be used: band B11 (20 m) is missing"


def test_library_detail_is_not_shown():
    exc = CorruptRasterError("/srv/x/a.tif", "undecodable", detail="TIFFReadEncodedTile() failed")
    with translation.override("zh-hans"):
        assert scene_problem(exc) == "影像 a.tif 无法使用：像元数据无法解码"
    assert "TIFFReadEncodedTile" in str(exc)  # the log and the core's own message keep it


@pytest.mark.parametrize("cls", [RasterError, CorruptRasterError, MissingBandError])
def test_errors_survive_pickling(cls):
    exc = pickle.loads(pickle.dumps(cls("/x/b.tif", "band_missing", band="B02", res=10)))
    assert type(exc) is cls and (exc.path, exc.code, exc.params) == (
        "/x/b.tif",
        "band_missing",
        {"band": "B02", "res": 10},
    )
