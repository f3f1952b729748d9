from django.contrib import admin

from .models import ApiKey, Category, DispatchRule, Holiday, Issue, IssueEvent, Notification


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "parent", "default_priority", "days_normal", "days_high", "days_urgent", "active"]
    list_filter = ["parent", "active"]
    search_fields = ["code", "name"]


@admin.register(DispatchRule)
class DispatchRuleAdmin(admin.ModelAdmin):
    list_display = ["category", "area", "organization", "note"]
    list_filter = ["category"]
    autocomplete_fields = ["organization", "area"]
    search_fields = ["organization__name", "area__name", "category__name"]


@admin.register(Holiday)
class HolidayAdmin(admin.ModelAdmin):
    list_display = ["date", "name", "is_workday"]


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = ["name", "active", "created_at"]


class IssueEventInline(admin.TabularInline):
    model = IssueEvent
    extra = 0
    can_delete = False
    fields = ["at", "action", "from_status", "to_status", "actor", "note"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Issue)
class IssueAdmin(admin.ModelAdmin):
    """Read-only: cases change only through the services (and so the audit trail)."""

    list_display = ["id", "category", "status", "priority", "source", "district", "deadline", "escalation_level"]
    list_filter = ["status", "priority", "source", "escalation_level"]
    inlines = [IssueEventInline]

    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["created_at", "recipient", "issue", "kind", "message", "read_at"]
