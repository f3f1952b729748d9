"""Error pages with DEBUG off (issue 12 §9): no URL list, no internals, translated and styled."""

from __future__ import annotations

import pytest
from django.test import Client, RequestFactory
from django.utils import translation
from django.views.defaults import bad_request, permission_denied, server_error

pytestmark = pytest.mark.django_db


def test_404_lists_no_urls_and_reads_in_chinese():
    r = Client().get("/no-such-page/")
    html = r.content.decode()
    assert r.status_code == 404
    assert "页面不存在" in html and "返回首页" in html
    assert "gridgov/site.css" in html  # the site's own frame
    for leak in ("URLconf", "api/zoning/", "urlpatterns", "Traceback", "DEBUG"):
        assert leak not in html


def test_404_in_english():
    client = Client()
    client.cookies["django_language"] = "en"
    html = client.get("/no-such-page/").content.decode()
    assert "Page not found" in html and "页面不存在" not in html


@pytest.mark.parametrize(
    "view, status, text",
    [(server_error, 500, "服务器出错了"), (bad_request, 400, "请求无效"), (permission_denied, 403, "没有访问权限")],
)
def test_error_pages_are_the_sites_own(view, status, text):
    request = RequestFactory().get("/x")
    with translation.override("zh-hans"):  # called without the middleware that picks the language
        response = view(request) if view is server_error else view(request, Exception("/srv/secret/path.py"))
    html = response.content.decode()
    assert response.status_code == status
    assert text in html and "gridgov/site.css" in html
    assert "/srv/secret" not in html and "Exception" not in html


def test_a_csrf_failure_explains_without_internals():
    client = Client(enforce_csrf_checks=True)
    r = client.post("/accounts/login/", {"username": "x", "password": "y"})
    html = r.content.decode()
    assert r.status_code == 403
    assert "页面已过期" in html and "CSRF" not in html
