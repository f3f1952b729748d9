"""URLs of the geodata app."""

urlpatterns: list = []
