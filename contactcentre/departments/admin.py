from django.contrib import admin

from .models import DepartmentApiKey, DepartmentWebhook, WebhookDelivery


@admin.register(DepartmentWebhook)
class DepartmentWebhookAdmin(admin.ModelAdmin):
    list_display = ["department", "url", "active", "created_at"]
    list_filter = ["active", "department"]


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = ["id", "event", "webhook", "status", "attempts", "last_status_code", "next_attempt_at", "created_at"]
    list_filter = ["status", "event"]
    readonly_fields = ["id", "webhook", "event", "ticket", "payload", "attempts", "last_status_code", "last_error",
                       "created_at", "delivered_at"]


@admin.register(DepartmentApiKey)
class DepartmentApiKeyAdmin(admin.ModelAdmin):
    # Keys are created with `manage.py department_api_key` (the raw key is shown once there).
    list_display = ["name", "department", "prefix", "active", "last_used_at"]
    list_filter = ["active", "department"]
    readonly_fields = ["prefix", "key_hash", "user", "created_at", "last_used_at"]

    def has_add_permission(self, request) -> bool:  # type: ignore[no-untyped-def]
        return False
