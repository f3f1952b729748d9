from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from leaflet.admin import LeafletGeoAdmin

from .jurisdiction import user_scope
from .login import AdminLoginForm
from .models import AdminArea, GridAssignment, GridCell, Organization, User
from .services import admin_area_save, grid_cell_save

# The admin's login goes through the same lock-out as every other login path.
admin.site.login_form = AdminLoginForm
admin.site.site_header = _("GridGov 管理后台")
admin.site.site_title = _("GridGov 管理后台")


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


def areas_in_scope(user):
    """The admin areas a user's jurisdiction covers (every area for city scope)."""
    scope = user_scope(user)
    if scope.everything:
        return AdminArea.objects.all()
    return AdminArea.objects.filter(Q(pk__in=scope.district_ids) | Q(pk__in=scope.township_ids))


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    """Accounts. A superuser sees and edits everything; a supervisor with admin access the
    accounts of their own jurisdiction (and accounts not yet given one), with scopes inside it,
    and none of the fields that grant admin rights."""

    list_display = ["username", "first_name", "role", "organization", "is_active"]
    list_filter = ["role", "is_staff", "is_active"]
    fieldsets = BaseUserAdmin.fieldsets + (("GridGov", {"fields": ("role", "phone", "scope", "organization")}),)
    scoped_fieldsets = (
        (None, {"fields": ("username", "password")}),
        (_("个人信息"), {"fields": ("first_name", "last_name", "email", "phone")}),
        ("GridGov", {"fields": ("is_active", "role", "scope", "organization")}),
    )
    filter_horizontal = ["scope", "groups", "user_permissions"]
    raw_id_fields = ["organization"]

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        if request.user.is_superuser:
            return qs
        qs = qs.filter(is_superuser=False)  # only a superuser edits a superuser
        if user_scope(request.user).everything:
            return qs
        # Out of reach: anyone with a scope area outside the supervisor's jurisdiction.
        outside = User.objects.filter(scope__isnull=False).exclude(scope__in=areas_in_scope(request.user))
        return qs.exclude(pk__in=outside.values("pk"))

    def get_fieldsets(self, request, obj=None):
        if obj is None or request.user.is_superuser:
            return super().get_fieldsets(request, obj)
        return self.scoped_fieldsets

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "scope" and not request.user.is_superuser:
            kwargs["queryset"] = areas_in_scope(request.user)
        return super().formfield_for_manytomany(db_field, request, **kwargs)
