from django.contrib import admin

from .models import Complaint, RootCause


@admin.register(RootCause)
class RootCauseAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "order", "is_active")
    list_editable = ("order", "is_active")


@admin.register(Complaint)
class ComplaintAdmin(admin.ModelAdmin):
    # Read-only here: state changes go through the services (guard, lock, audit, event).
    list_display = ("ticket", "status", "department", "owner", "root_cause", "registered_at", "answer_due_at")
    list_filter = ("status", "department", "root_cause")
    readonly_fields = [f.name for f in Complaint._meta.fields]

    def has_add_permission(self, request) -> bool:  # type: ignore[no-untyped-def]
        return False
