from django.contrib import admin

from .models import CommitmentPolicy
from .services import policies_changed


@admin.register(CommitmentPolicy)
class CommitmentPolicyAdmin(admin.ModelAdmin):
    list_display = ("name", "channel", "department", "category", "priority", "first_response_hours",
                    "resolution_hours", "department_days", "department_check_days", "is_active")
    list_filter = ("is_active", "channel", "department")

    def save_model(self, request, obj, form, change):  # type: ignore[no-untyped-def]
        super().save_model(request, obj, form, change)
        policies_changed()

    def delete_model(self, request, obj):  # type: ignore[no-untyped-def]
        super().delete_model(request, obj)
        policies_changed()

    def delete_queryset(self, request, queryset):  # type: ignore[no-untyped-def]
        super().delete_queryset(request, queryset)
        policies_changed()
