from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from leaflet.admin import LeafletGeoAdmin

from .models import AdminArea, GridAssignment, GridCell, Organization, User
from .services import admin_area_save, grid_cell_save


@admin.register(AdminArea)
class AdminAreaAdmin(LeafletGeoAdmin):
    list_display = ["code", "name", "level", "parent", "synthetic"]
    list_filter = ["level", "synthetic"]
    search_fields = ["code", "name"]

    def save_model(self, request, obj, form, change):
        admin_area_save(area=obj)


class GridAssignmentInline(admin.TabularInline):
    model = GridAssignment
    extra = 0
    raw_id_fields = ["user"]


@admin.register(GridCell)
class GridCellAdmin(LeafletGeoAdmin):
    list_display = ["code", "name", "township", "level", "synthetic"]
    list_filter = ["level", "township__parent"]
    search_fields = ["code", "name"]
    raw_id_fields = ["township"]
    inlines = [GridAssignmentInline]

    def save_model(self, request, obj, form, change):
        grid_cell_save(cell=obj)


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "area"]
    list_filter = ["kind"]
    search_fields = ["name"]
    raw_id_fields = ["area"]


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ["username", "first_name", "role", "organization", "is_active"]
    list_filter = ["role", "is_staff", "is_active"]
    fieldsets = BaseUserAdmin.fieldsets + (("GridGov", {"fields": ("role", "phone", "scope", "organization")}),)
    filter_horizontal = ["scope", "groups", "user_permissions"]
    raw_id_fields = ["organization"]
