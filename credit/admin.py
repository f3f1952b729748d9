"""Admin: the rule set and scheme are configurable here; evidence and history are read-only."""

from django.contrib import admin

from .models import CreditRule, CreditScheme, CreditStanding, Evidence, Penalty, RepairRequest, ScoreChange, VetoFinding


@admin.register(CreditScheme)
class CreditSchemeAdmin(admin.ModelAdmin):
    list_display = ["__str__", "base_score", "green_min", "blue_min", "yellow_min", "red_min", "reward_clean_months"]

    def has_add_permission(self, request):
        return not CreditScheme.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(CreditRule)
class CreditRuleAdmin(admin.ModelAdmin):
    list_display = [
        "code",
        "label",
        "kind",
        "penalty_kind",
        "veto_kind",
        "amount_min_yuan",
        "points",
        "expiry_months",
        "veto",
        "active",
    ]
    list_filter = ["kind", "veto", "active"]
    search_fields = ["code", "label"]


class ReadOnly(admin.ModelAdmin):
    """Written by the services only (score and history move together)."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(CreditStanding)
class CreditStandingAdmin(ReadOnly):
    list_display = ["credit_code", "score", "level", "level_since", "commitment_on"]
    list_filter = ["level"]
    search_fields = ["credit_code"]


@admin.register(Evidence)
class EvidenceAdmin(ReadOnly):
    list_display = [
        "credit_code",
        "kind",
        "source_id",
        "rule_code",
        "points",
        "veto",
        "occurred_on",
        "expires_on",
        "repaired_on",
    ]
    list_filter = ["kind", "veto"]
    search_fields = ["credit_code"]


@admin.register(ScoreChange)
class ScoreChangeAdmin(ReadOnly):
    list_display = ["credit_code", "at", "reason", "delta", "score", "level", "rule"]
    list_filter = ["reason", "level"]
    search_fields = ["credit_code"]


@admin.register(Penalty)
class PenaltyAdmin(ReadOnly):
    list_display = ["decision_number", "credit_code", "decided_on", "kind", "amount_yuan"]
    search_fields = ["decision_number", "credit_code"]


@admin.register(VetoFinding)
class VetoFindingAdmin(ReadOnly):
    list_display = ["credit_code", "kind", "found_on", "reference"]


@admin.register(RepairRequest)
class RepairRequestAdmin(ReadOnly):
    list_display = ["credit_code", "evidence", "status", "filed_at", "decided_at"]
    list_filter = ["status"]
