"""Dynamic responses are compressed by Accept-Encoding (gridgov/compression.py), safely."""

from __future__ import annotations

import gzip

import brotli
import pytest

from gridgov.compression import choose_encoding


@pytest.mark.parametrize(
    "header, expected",
    [
        ("gzip, deflate, br", "br"),
        ("gzip", "gzip"),
        ("br;q=0.5, gzip", "gzip"),
        ("gzip;q=0, br;q=0", None),
        ("identity", None),
        ("*", "br"),
        ("", None),
        ("deflate", None),
    ],
)
def test_encoding_follows_accept_encoding(header, expected):
    assert choose_encoding(header) == expected


def test_ogc_page_compressed_with_brotli_or_gzip(api):
    path = "/ogc/collections/grid-cells/items?limit=200"
    plain = api.get(path).content
    br = api.get(path, HTTP_ACCEPT_ENCODING="gzip, deflate, br")
    assert br["Content-Encoding"] == "br" and "Accept-Encoding" in br["Vary"]
    assert brotli.decompress(br.content)[:80] == plain[:80]  # the same page (its timeStamp may differ)
    gz = api.get(path, HTTP_ACCEPT_ENCODING="gzip")
    assert gz["Content-Encoding"] == "gzip"
    assert len(gz.content) < len(plain) / 3
    assert gzip.decompress(gz.content)[:80] == plain[:80]


def test_tiles_compressed_and_small_bodies_left_alone(api):
    tile = api.get("/tiles/grid-cells/12/3414/1686.pbf", HTTP_ACCEPT_ENCODING="gzip")
    plain = api.get("/tiles/grid-cells/12/3414/1686.pbf").content
    assert len(plain) > 1024 and tile["Content-Encoding"] == "gzip"
    assert gzip.decompress(tile.content) == plain
    small = api.get("/healthz", HTTP_ACCEPT_ENCODING="gzip")
    assert not small.has_header("Content-Encoding")


def test_streamed_pages_are_compressed_as_they_stream(api):
    from gridgov.models import GridCell

    response = api.get("/ogc/collections/grid-cells/items?limit=10000", HTTP_ACCEPT_ENCODING="br")
    assert response.streaming and response["Content-Encoding"] == "br"
    body = brotli.decompress(b"".join(response.streaming_content))
    assert (
        body.startswith(b'{"type":"FeatureCollection"') and body.count(b'"type":"Feature",') == GridCell.objects.count()
    )


def test_pages_with_the_csrf_token_are_never_compressed(api):
    """BREACH: the language switch form of every page holds the CSRF token."""
    page = api.get("/ogc/?f=html", HTTP_ACCEPT_ENCODING="gzip, br")
    assert not page.has_header("Content-Encoding")
    assert b"csrfmiddlewaretoken" in page.content and len(page.content) > 1024
    # The same size of JSON without the token is compressed.
    assert api.get("/ogc/api", HTTP_ACCEPT_ENCODING="gzip, br")["Content-Encoding"] == "br"
