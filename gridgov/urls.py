from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from . import api, login, tiles, views
from .ogc import views as ogc_views

api_patterns = [
    path("areas/", api.AreaListView.as_view(), name="api-areas"),
    path("locate/", api.LocateView.as_view(), name="api-locate"),
    path("grid-cells/<str:code>/", api.GridCellDetailView.as_view(), name="api-grid-cell"),
    path("auth/token/", login.TokenView.as_view(), name="api-token"),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # Swagger UI from static/vendor; its set-up script from a second request (?script), not
    # inline, so the page runs under the Content-Security-Policy.
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("zoning/", include("zoning.urls")),
    path("patrol/", include("patrol.urls")),
    path("geodata/", include("geodata.urls")),
    path("dashboard/", include("dashboard.urls")),
    path("sources/", include("sources.urls")),
    path("monitoring/", include("monitoring.urls")),
    path("credit/", include("credit.urls")),
    path("inspections/", include("inspections.urls")),
    path("quality/", include("quality.urls")),
]

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", api.healthz, name="healthz"),
    path("api/", include(api_patterns)),
    path("tiles/<str:layer>/<int:z>/<int:x>/<int:y>.pbf", tiles.tile_view, name="tile"),
    path("tiles/<str:layer>/tilejson.json", tiles.tilejson, name="tilejson"),
    path("tiles/<str:layer>/style.json", tiles.style, name="tile-style"),
    path("zoning/", include("zoning.page_urls")),
    # QGIS 3.22 does not follow the redirect from /ogc to /ogc/: answer both.
    path("ogc", ogc_views.landing),
    path("ogc/", include("gridgov.ogc.urls")),
    path("patrol/", include("patrol.page_urls")),
    path("m/", include("patrol.mobile_urls")),
    path("open311/v2/", include("patrol.open311_urls")),
    path("public/", include("patrol.public_urls")),
    path("imagery/", include("geodata.page_urls")),
    path("dashboard/", include("dashboard.page_urls")),
    path("reports/", include("dashboard.report_urls")),
    path("sources/", include("sources.page_urls")),
    path("monitoring/", include("monitoring.page_urls")),
    path("inspections/", include("inspections.page_urls")),
    path("public/inspections/", include("inspections.public_urls")),
    path("public/credit/", include("credit.public_urls")),
    path("credit/", include("credit.page_urls")),
    path("quality/", include("quality.page_urls")),
    path("accounts/login/", auth_views.LoginView.as_view(authentication_form=login.LoginForm), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
]
