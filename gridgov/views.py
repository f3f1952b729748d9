"""Pages of the grid core."""

from __future__ import annotations

from django.shortcuts import render

from .models import AdminArea, GridCell


def home(request):
    """The city map: districts, townships and grid cells."""
    context = {
        "district_count": AdminArea.objects.filter(level="district").count(),
        "township_count": AdminArea.objects.filter(level="township").count(),
        "cell_count": GridCell.objects.count(),
    }
    return render(request, "gridgov/home.html", context)
