"""URLs of the patrol app."""

urlpatterns: list = []
