"""Output serializers of the patrol API: cases as GeoJSON features, a case with its trail."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework_gis.fields import GeometryField
from rest_framework_gis.serializers import GeoFeatureModelSerializer

from .actions.transitions import allowed_actions
from .models import Category, Issue
from .transitions import event_label


def photo_url(sha: str) -> str:
    return reverse("patrol-photo", args=[sha])


class IssueFeatureSerializer(GeoFeatureModelSerializer):
    point = GeometryField(precision=7)
    category_name = serializers.CharField(source="category.name", read_only=True)
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    priority_label = serializers.CharField(source="get_priority_display", read_only=True)
    district = serializers.CharField(source="district.code", default=None, read_only=True, allow_null=True)
    township = serializers.CharField(source="township.code", default=None, read_only=True, allow_null=True)
    grid_cell = serializers.CharField(source="grid_cell_code", read_only=True)
    responsible_unit = serializers.CharField(
        source="responsible_unit.name", default=None, read_only=True, allow_null=True
    )
    overdue = serializers.BooleanField(source="is_overdue", read_only=True)

    class Meta:
        model = Issue
        geo_field = "point"
        fields = [
            "id",
            "status",
            "status_label",
            "category",
            "category_name",
            "source",
            "priority",
            "priority_label",
            "deadline",
            "overdue",
            "escalation_level",
            "reported_at",
            "district",
            "township",
            "grid_cell",
            "responsible_unit",
            "is_public",
            "accuracy_m",
        ]


class IssueDetailSerializer(IssueFeatureSerializer):
    photos = serializers.SerializerMethodField()
    events = serializers.SerializerMethodField()
    allowed_actions = serializers.SerializerMethodField()
    reporter = serializers.CharField(source="reporter.display_name", default=None, read_only=True, allow_null=True)

    class Meta(IssueFeatureSerializer.Meta):
        fields = IssueFeatureSerializer.Meta.fields + [
            "description",
            "client_uuid",
            "zone_hits",
            "duplicate_of",
            "photos",
            "events",
            "allowed_actions",
            "reporter",
            "public_description",
            "verified_at",
            "dispatched_at",
            "rectified_at",
            "accepted_at",
            "escalated_at",
            "published_at",
            "closed_at",
            "deadline_overridden",
        ]

    @extend_schema_field(serializers.ListField(child=serializers.DictField()))
    def get_photos(self, obj):
        return [{"sha256": p.sha256, "url": photo_url(p.sha256)} for p in obj.photos.all()]

    @extend_schema_field(serializers.ListField(child=serializers.DictField()))
    def get_events(self, obj):
        return [
            {
                "action": e.action,
                "label": event_label(e.action),
                "from": e.from_status,
                "to": e.to_status,
                "actor": e.actor.display_name if e.actor else _("系统"),
                "at": e.at,
                "note": e.note,
                "location": {"lat": e.point.y, "lon": e.point.x} if e.point else None,
                "photos": [{"sha256": h, "url": photo_url(h)} for h in e.photo_hashes],
                "data": e.data,
            }
            for e in obj.events.all()
        ]

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_allowed_actions(self, obj):
        user = self.context.get("user")
        return allowed_actions(issue=obj, user=user) if user else []


class CategorySerializer(serializers.ModelSerializer):
    """A problem category with its deadlines in working days per priority."""

    parent = serializers.CharField(source="parent_id", allow_null=True, read_only=True)
    deadline_days = serializers.SerializerMethodField()

    class Meta:
        model = Category
        fields = ["code", "name", "parent", "default_priority", "deadline_days"]

    @extend_schema_field(serializers.DictField(child=serializers.IntegerField()))
    def get_deadline_days(self, c: Category) -> dict:
        return {"normal": c.days_normal, "high": c.days_high, "urgent": c.days_urgent}
