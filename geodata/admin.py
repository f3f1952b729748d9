from django.contrib import admin
from django.contrib.gis.admin import GISModelAdmin

from .models import CandidateReview, ChangeCandidate, DetectionJob, GridCellSummary, Scene


@admin.register(Scene)
class SceneAdmin(GISModelAdmin):
    list_display = ["name", "sensor", "acquired", "crs", "width", "height", "synthetic"]
    list_filter = ["sensor", "synthetic"]
    search_fields = ["name", "path"]


@admin.register(DetectionJob)
class DetectionJobAdmin(admin.ModelAdmin):
    list_display = ["id", "before", "after", "status", "progress", "candidate_count", "created_at"]
    list_filter = ["status", "sensor"]
    readonly_fields = [f.name for f in DetectionJob._meta.fields]

    def has_add_permission(self, request):  # jobs are started through the page, API or CLI
        return False


@admin.register(ChangeCandidate)
class ChangeCandidateAdmin(GISModelAdmin):
    list_display = ["id", "job", "change_type", "area_m2", "confidence", "grid_cell", "violation", "status", "issue"]
    list_filter = ["change_type", "violation", "status"]
    readonly_fields = [f.name for f in ChangeCandidate._meta.fields if f.name != "geom"]

    def has_add_permission(self, request):
        return False


@admin.register(CandidateReview)
class CandidateReviewAdmin(admin.ModelAdmin):
    list_display = ["at", "job", "candidate", "decision", "change_type", "reviewer", "issue"]
    list_filter = ["decision", "change_type"]

    def has_change_permission(self, request, obj=None):
        return False


admin.site.register(GridCellSummary)
