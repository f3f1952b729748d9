"""Admin: the inspector roster (执法人员名录) and declared conflicts are kept here; plans are
edited through the plan editor (a committed plan never changes), so they are read-only here."""

from django.contrib import admin

from .models import DeclaredConflict, Inspection, InspectorDuty, Plan


@admin.register(InspectorDuty)
class InspectorDutyAdmin(admin.ModelAdmin):
    list_display = ["user", "area", "certificate", "active"]
    list_filter = ["active"]
    raw_id_fields = ["user", "area"]
    search_fields = ["user__username", "user__first_name", "certificate"]


@admin.register(DeclaredConflict)
class DeclaredConflictAdmin(admin.ModelAdmin):
    list_display = ["user", "credit_code", "reason", "declared_at"]
    raw_id_fields = ["user"]
    search_fields = ["credit_code", "user__username"]


@admin.register(Plan)
class PlanAdmin(admin.ModelAdmin):
    list_display = ["name", "period_start", "period_end", "status", "seed_sha256", "synthetic"]
    list_filter = ["status"]
    readonly_fields = [f.name for f in Plan._meta.fields if f.name != "seed"]
    exclude = ["seed"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Inspection)
class InspectionAdmin(admin.ModelAdmin):
    list_display = ["code", "plan", "credit_code", "outcome", "done_at"]
    list_filter = ["outcome"]
    search_fields = ["code", "credit_code"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
