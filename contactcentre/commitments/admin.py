from django.contrib import admin

from .models import CommitmentPolicy


@admin.register(CommitmentPolicy)
class CommitmentPolicyAdmin(admin.ModelAdmin):
    list_display = ("name", "channel", "department", "category", "priority", "first_response_hours",
                    "resolution_hours", "department_days", "is_active")
    list_filter = ("is_active", "channel", "department")
