"""Operators' view of the e-mail channel: the quarantine, with the raw mail as a download and
an action that runs selected mail through intake again (after a fix)."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.html import format_html

from .models import QuarantinedMail
from .services import mail_quarantine_reprocess


@admin.register(QuarantinedMail)
class QuarantinedMailAdmin(admin.ModelAdmin):
    list_display = ["received_at", "reason", "status", "envelope_from", "subject", "size", "ticket"]
    list_filter = ["status", "reason"]
    search_fields = ["envelope_from", "header_from", "subject", "sha256"]
    exclude = ["raw"]
    readonly_fields = ["reason", "detail", "status", "envelope_from", "envelope_to", "header_from", "subject",
                       "size", "sha256", "received_at", "reprocessed_at", "ticket", "raw_download"]
    actions = ["reprocess", "reprocess_ignoring_limits"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[QuarantinedMail]:
        return super().get_queryset(request).defer("raw")  # up to 25 MB each: never in a list

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def get_urls(self):  # type: ignore[no-untyped-def]
        view = self.admin_site.admin_view(self.raw_view)
        return [path("<int:pk>/raw/", view, name="mail_quarantinedmail_raw"), *super().get_urls()]

    def raw_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        if not self.has_view_permission(request):
            return HttpResponse(status=403)
        item = get_object_or_404(QuarantinedMail, pk=pk)
        # Always a download, never rendered: the bytes are hostile until proven otherwise.
        response = HttpResponse(bytes(item.raw), content_type="application/octet-stream")
        response["Content-Disposition"] = f'attachment; filename="quarantine-{item.pk}.eml"'
        response["X-Content-Type-Options"] = "nosniff"
        return response

    @admin.display(description="Originalmeddelande")
    def raw_download(self, obj: QuarantinedMail) -> str:
        url = reverse("admin:mail_quarantinedmail_raw", args=[obj.pk])
        return format_html('<a href="{}">Ladda ner ({} byte, sha256 {})</a>', url, obj.size, obj.sha256[:16])

    def _reprocess(self, request: HttpRequest, queryset: QuerySet[QuarantinedMail], *, enforce_limits: bool) -> None:
        for item in queryset.filter(status=QuarantinedMail.Status.QUARANTINED):
            try:
                received = mail_quarantine_reprocess(quarantined_id=item.pk, enforce_limits=enforce_limits)
            except Exception as exc:  # noqa: BLE001 - reported to the operator; the row stays
                self.message_user(request, f"{item.pk}: fortfarande i karantän ({type(exc).__name__}: {exc})",
                                  messages.ERROR)
            else:
                self.message_user(request, f"{item.pk}: {received.kind} {received.reference}", messages.SUCCESS)

    @admin.action(description="Behandla igen")
    def reprocess(self, request: HttpRequest, queryset: QuerySet[QuarantinedMail]) -> None:
        self._reprocess(request, queryset, enforce_limits=True)

    @admin.action(description="Behandla igen utan gränser (efter granskning)")
    def reprocess_ignoring_limits(self, request: HttpRequest, queryset: QuerySet[QuarantinedMail]) -> None:
        self._reprocess(request, queryset, enforce_limits=False)
