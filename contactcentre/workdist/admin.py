from django.contrib import admin

from .models import AgentStatus, CannedReply, Offer


@admin.register(CannedReply)
class CannedReplyAdmin(admin.ModelAdmin):
    list_display = ["title", "language", "department", "active", "updated_at"]
    list_filter = ["language", "department", "active"]
    search_fields = ["title", "body"]


@admin.register(Offer)
class OfferAdmin(admin.ModelAdmin):
    # The log of who was offered what: read it here, change it through the services only.
    list_display = ["id", "kind", "ticket", "agent", "state", "created_at", "expires_at", "decided_at"]
    list_filter = ["kind", "state"]
    list_select_related = ["ticket", "agent"]
    readonly_fields = [f.name for f in Offer._meta.fields]

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False


@admin.register(AgentStatus)
class AgentStatusAdmin(admin.ModelAdmin):
    list_display = ["user", "available", "last_offered_at", "last_seen"]
    list_select_related = ["user"]
