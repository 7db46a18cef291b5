from __future__ import annotations

from typing import Any

from django.contrib import admin

from .models import AccessLog, DisposalLog, ErasureRequest, LegalHold, RetentionClass


@admin.register(RetentionClass)
class RetentionClassAdmin(admin.ModelAdmin):
    list_display = ["record_type", "decision_reference", "period_days", "archive_before_disposal", "is_active"]


@admin.register(LegalHold)
class LegalHoldAdmin(admin.ModelAdmin):
    list_display = ["id", "ticket_id", "contact_id", "reason", "created_at", "released_at"]
    readonly_fields = ["created_by", "created_at"]

    def save_model(self, request: Any, obj: LegalHold, form: Any, change: bool) -> None:
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)


class _ReadOnly(admin.ModelAdmin):
    """The logs are evidence: viewable in the admin, never added, changed or deleted there."""

    def has_add_permission(self, request: Any) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False


@admin.register(AccessLog)
class AccessLogAdmin(_ReadOnly):
    list_display = ["created_at", "username", "action", "ticket_reference", "contact_id"]
    list_filter = ["action"]
    search_fields = ["username", "ticket_reference"]


@admin.register(DisposalLog)
class DisposalLogAdmin(_ReadOnly):
    list_display = ["created_at", "ticket_reference", "record_type", "outcome", "decision_reference"]


@admin.register(ErasureRequest)
class ErasureRequestAdmin(_ReadOnly):
    list_display = ["created_at", "contact_id", "requested_by"]
