from django.contrib import admin
from leaflet.admin import LeafletGeoAdmin

from .models import Limit, Logger, Rejection


class LimitInline(admin.TabularInline):
    model = Limit
    extra = 0


@admin.register(Logger)
class LoggerAdmin(LeafletGeoAdmin):
    list_display = ["mn", "name", "kind", "district", "last_seen", "accepted", "duplicates", "rejected", "active"]
    list_filter = ["kind", "active", "district"]
    search_fields = ["mn", "name"]
    readonly_fields = ["last_seen", "last_data_time", "accepted", "duplicates", "rejected", "offline_since"]
    inlines = [LimitInline]


@admin.register(Rejection)
class RejectionAdmin(admin.ModelAdmin):
    list_display = ["reason", "mn", "count", "last_at"]
    list_filter = ["reason"]
    search_fields = ["mn"]
