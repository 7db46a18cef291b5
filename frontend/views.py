"""Resident-facing pages. Thin: validate, call a service, render."""

from __future__ import annotations

from django import forms
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from contactcentre.departments.selectors import directory_list
from contactcentre.intake.base import InboundMessage
from contactcentre.intake.services import intake_receive
from contactcentre.tickets.links import ticket_from_status_token
from contactcentre.tickets.models import Message
from contactcentre.tickets.selectors import department_list


def home(request: HttpRequest) -> HttpResponse:
    return render(request, "frontend/home.html", {"departments": department_list()})


def directory(request: HttpRequest) -> HttpResponse:
    """Departments' direct e-mail and phone, for residents with an ongoing case."""
    return render(request, "frontend/directory.html", {"entries": directory_list()})


class ResidentReplyForm(forms.Form):
    message = forms.CharField(label=_("Ditt svar"), max_length=20_000, widget=forms.Textarea(attrs={"rows": 5}))


@require_http_methods(["GET", "POST"])
def ticket_status(request: HttpRequest, token: str) -> HttpResponse:
    """One ticket, for the resident who holds its signed link: status, replies, and a reply box."""
    ticket = ticket_from_status_token(token)
    if ticket is None:
        raise Http404(_("Länken är ogiltig eller har gått ut."))
    form = ResidentReplyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        intake_receive(
            InboundMessage(
                channel=ticket.channel if ticket.channel in {"web", "email", "open311", "phone", "chat"} else "web",
                body_text=form.cleaned_data["message"],
                thread_reference=ticket.reference,
                thread_verified=True,  # the signed link proves it is their ticket
                route=False,
            )
        )
        return redirect(request.path + "#svar")
    messages = (
        ticket.messages.exclude(direction=Message.Direction.NOTE)
        .select_related("author")
        .order_by("created_at", "id")
    )
    return render(request, "frontend/ticket_status.html", {"ticket": ticket, "messages": messages, "form": form})
