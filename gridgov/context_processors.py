from django.conf import settings


def gridgov(request) -> dict:
    """Expose the basemap choice and keys that every map page needs."""
    return {
        "GRIDGOV_BASEMAP": settings.GRIDGOV_BASEMAP,
        "TIANDITU_KEY": settings.TIANDITU_KEY,
    }
