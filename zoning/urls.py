"""URLs of the zoning app."""

urlpatterns: list = []
