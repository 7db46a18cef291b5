"""The department workspace (/department/) and the supervisor view (/supervisor/).

Thin: resolve who and what, call one service, render. Every live page takes the last event id
before it reads its data, so the live client replays anything that happened in between.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from contactcentre.departments import selectors as dept_selectors
from contactcentre.departments.services import ticket_return_to_contact_centre
from contactcentre.records.access import access_log_request
from contactcentre.records.models import AccessLog
from contactcentre.tickets import services as ticket_services
from contactcentre.tickets.errors import DomainError, NotFound
from contactcentre.tickets.models import Channel, Department, Ticket
from contactcentre.tickets.selectors import live_event_last_id, message_list

VIEWS = ("active", "new", "mine", "waiting", "done")
SESSION_KEY = "workspace_department"


class AnswerForm(forms.Form):
    body = forms.CharField(label=gettext_lazy("Svar till invånaren"), max_length=20_000,
                           widget=forms.Textarea(attrs={"rows": 6}))
    resolve = forms.BooleanField(label=gettext_lazy("Markera ärendet som löst när svaret skickas"), required=False)


class AskForm(forms.Form):
    body = forms.CharField(label=gettext_lazy("Vad behöver ni veta?"), max_length=20_000,
                           widget=forms.Textarea(attrs={"rows": 4}))


class ReturnForm(forms.Form):
    note = forms.CharField(label=gettext_lazy("Anteckning till kontaktcenter"), max_length=5_000,
                           widget=forms.Textarea(attrs={"rows": 3}))


class ResolveForm(forms.Form):
    note = forms.CharField(label=gettext_lazy("Intern anteckning (valfri)"), max_length=5_000, required=False,
                           widget=forms.Textarea(attrs={"rows": 2}))


# --- who may see which department -------------------------------------------------------------

def _department_for(request: HttpRequest) -> tuple[Department, list[Department]]:
    allowed = list(dept_selectors.workspace_departments(request.user))
    if not allowed:
        raise PermissionDenied
    wanted = request.GET.get("d") or request.session.get(SESSION_KEY)
    department = next((d for d in allowed if d.code == wanted), allowed[0])
    if len(allowed) > 1:
        request.session[SESSION_KEY] = department.code
    return department, allowed


def _ticket_for(request: HttpRequest, ref: str) -> Ticket:
    if not dept_selectors.workspace_departments(request.user).exists():
        raise PermissionDenied
    # Admins open any department's escalation; caseworkers only their own (the scope decides).
    try:
        return dept_selectors.department_ticket_get(user=request.user, department=None, reference=ref)
    except NotFound as exc:
        raise Http404(str(exc)) from exc


# --- department workspace ---------------------------------------------------------------------

@login_required
@require_GET
def department(request: HttpRequest) -> HttpResponse:
    last_event_id = live_event_last_id()  # before the data: nothing can fall in between
    current, allowed = _department_for(request)
    view = request.GET.get("view") if request.GET.get("view") in VIEWS else "active"
    tickets = dept_selectors.department_ticket_list(user=request.user, department=current, view=view)
    context: dict[str, Any] = {
        "nav": "department", "last_event_id": last_event_id, "department": current, "departments": allowed,
        "view": view, "tickets": tickets,
        "counts": dept_selectors.department_ticket_counts(user=request.user, department=current),
    }
    if request.GET.get("partial") == "list":
        return render(request, "frontend/department/_list.html", context)
    return render(request, "frontend/department/workspace.html", context)


@login_required
@require_GET
def department_ticket(request: HttpRequest, ref: str) -> HttpResponse:
    last_event_id = live_event_last_id()
    ticket = _ticket_for(request, ref)
    access_log_request(request, action=AccessLog.Action.TICKET_DETAIL, tickets=[ticket])
    context = {
        "nav": "department", "last_event_id": last_event_id, "ticket": ticket,
        "thread": message_list(ticket=ticket),
        "answer_form": AnswerForm(prefix="answer"), "ask_form": AskForm(prefix="ask"),
        "return_form": ReturnForm(prefix="return"), "resolve_form": ResolveForm(prefix="resolve"),
        "is_active": ticket.status in Ticket.ACTIVE_STATUSES,
    }
    if request.GET.get("partial") == "thread":
        return render(request, "frontend/department/_ticket_live.html", context)
    return render(request, "frontend/department/ticket.html", context)


def _act_accept(request: HttpRequest, ticket: Ticket) -> str:
    ticket_services.ticket_claim(ticket_id=ticket.pk, actor=request.user)
    return _("Du har tagit ärendet.")


def _act_answer(request: HttpRequest, ticket: Ticket) -> str:
    form = AnswerForm(request.POST, prefix="answer")
    if not form.is_valid():
        raise DomainError(_("Skriv ett svar."))
    status_after = Ticket.Status.RESOLVED if form.cleaned_data["resolve"] else None
    ticket_services.ticket_reply(ticket_id=ticket.pk, actor=request.user, body=form.cleaned_data["body"],
                                 status_after=status_after)
    return _("Svaret är skickat till invånaren.")


def _act_ask(request: HttpRequest, ticket: Ticket) -> str:
    form = AskForm(request.POST, prefix="ask")
    if not form.is_valid():
        raise DomainError(_("Skriv din fråga till invånaren."))
    ticket_services.ticket_reply(ticket_id=ticket.pk, actor=request.user, body=form.cleaned_data["body"],
                                 status_after=Ticket.Status.WAITING)
    return _("Frågan är skickad. Ärendet väntar nu på invånaren.")


def _act_resolve(request: HttpRequest, ticket: Ticket) -> str:
    form = ResolveForm(request.POST, prefix="resolve")
    note = form.cleaned_data["note"] if form.is_valid() else ""
    ticket_services.ticket_resolve(ticket_id=ticket.pk, actor=request.user, first_contact=False, note=note)
    return _("Ärendet är markerat som löst.")


def _act_return(request: HttpRequest, ticket: Ticket) -> str:
    form = ReturnForm(request.POST, prefix="return")
    if not form.is_valid():
        raise DomainError(_("Skriv en anteckning till kontaktcenter."))
    ticket_return_to_contact_centre(ticket_id=ticket.pk, actor=request.user, note=form.cleaned_data["note"])
    return _("Ärendet är återlämnat till kontaktcenter.")


ACTIONS: dict[str, Callable[[HttpRequest, Ticket], str]] = {
    "accept": _act_accept, "answer": _act_answer, "ask": _act_ask, "resolve": _act_resolve, "return": _act_return,
}


@login_required
@require_POST
def department_ticket_action(request: HttpRequest, ref: str, action: str) -> HttpResponse:
    handler = ACTIONS.get(action)
    if handler is None:
        raise Http404
    ticket = _ticket_for(request, ref)
    try:
        done = handler(request, ticket)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("frontend:department-ticket", ref=ticket.reference)
    messages.success(request, done)
    if action == "return":
        return redirect(reverse("frontend:department") + f"?d={ticket.department.code}")
    return redirect("frontend:department-ticket", ref=ticket.reference)


# --- supervisor ---------------------------------------------------------------------------------

def _require_supervisor(request: HttpRequest) -> None:
    user = request.user
    if not (user.is_active and (user.is_superuser or getattr(user, "role", "") in ("supervisor", "admin"))):
        raise PermissionDenied


@login_required
@require_GET
def supervisor(request: HttpRequest) -> HttpResponse:
    _require_supervisor(request)
    last_event_id = live_event_last_id()
    counts = dept_selectors.supervisor_counts()
    channels = [((code, label), counts["today_by_channel"].get(code, 0)) for code, label in Channel.choices
                if code in counts["today_by_channel"]]
    context = {"nav": "supervisor", "last_event_id": last_event_id, "counts": counts, "channels": channels}
    if request.GET.get("partial") == "counts":
        return render(request, "frontend/supervisor/_counts.html", context)
    return render(request, "frontend/supervisor/overview.html", context)


@login_required
@require_GET
def supervisor_counts(request: HttpRequest) -> JsonResponse:
    _require_supervisor(request)
    return JsonResponse(dept_selectors.supervisor_counts())


department_urlpatterns = [
    path("", department, name="department"),
    path("t/<str:ref>/", department_ticket, name="department-ticket"),
    path("t/<str:ref>/<slug:action>/", department_ticket_action, name="department-ticket-action"),
]
supervisor_urlpatterns = [
    path("", supervisor, name="supervisor"),
    path("counts/", supervisor_counts, name="supervisor-counts"),
]
