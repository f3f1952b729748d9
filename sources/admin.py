from django.contrib import admin
from leaflet.admin import LeafletGeoAdmin

from .models import Enterprise, Episode, Outage, Outlet, Permit


class PermitInline(admin.StackedInline):
    model = Permit
    extra = 0


class OutletInline(admin.TabularInline):
    model = Outlet
    extra = 0
    readonly_fields = ["logger"]
    fields = ["code", "logger"]


@admin.register(Enterprise)
class EnterpriseAdmin(LeafletGeoAdmin):
    list_display = ["credit_code", "name", "management_class", "district", "township", "synthetic"]
    list_filter = ["management_class", "district", "synthetic"]
    search_fields = ["credit_code", "name"]
    readonly_fields = ["district", "township", "grid_cell", "grid_cell_code", "zone_hits", "organization"]
    inlines = [PermitInline, OutletInline]


@admin.register(Episode)
class EpisodeAdmin(admin.ModelAdmin):
    list_display = ["outlet", "factor", "first_hour", "last_hour", "hours", "peak", "issue"]
    list_filter = ["factor"]
    raw_id_fields = ["outlet", "issue"]


@admin.register(Outage)
class OutageAdmin(admin.ModelAdmin):
    list_display = ["outlet", "silent_since", "ended_at", "issue"]
    raw_id_fields = ["outlet", "issue"]
