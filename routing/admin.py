from __future__ import annotations

from django.contrib import admin

from .models import RoutingCorrection, RoutingRule


@admin.register(RoutingRule)
class RoutingRuleAdmin(admin.ModelAdmin):
    list_display = ["name", "sender_domain", "phrase", "department", "priority", "is_active", "order"]
    list_filter = ["is_active", "department", "priority"]
    search_fields = ["name", "sender_domain", "phrase"]
    list_editable = ["is_active", "order"]


@admin.register(RoutingCorrection)
class RoutingCorrectionAdmin(admin.ModelAdmin):
    list_display = ["created_at", "source", "department", "article", "ticket_id"]
    list_filter = ["source", "department"]
    search_fields = ["text"]
    raw_id_fields = ["article", "created_by"]
