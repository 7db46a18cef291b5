"""The agent console (/console/): server-rendered pages; actions go to the REST API from
``console.js``, live frames from ``/ws/agent/`` make the page re-fetch the parts that changed.

Reads go through ``contactcentre.tickets.selectors``; every page and partial has a constant
number of queries (joins decided with ``select_related``/``prefetch_related``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import path
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from contactcentre.intake.chat.models import ChatSession
from contactcentre.records.access import access_log_request
from contactcentre.records.models import AccessLog
from contactcentre.tickets import selectors
from contactcentre.tickets.errors import NotFound
from contactcentre.tickets.models import Channel, Message, Ticket
from knowledge.models import Article

# Rows rendered in the queue: a page an agent scans, not the archive (filters, search and the
# tabs find the rest); "show more" renders up to QUEUE_LIMIT.
QUEUE_PAGE = 50
QUEUE_LIMIT = 200
# Time left to a commitment below which the row turns amber.
SLA_WARN = timedelta(hours=2)
SLA_TITLES = {"first_response": _("Första svar senast"), "department": _("Avdelningen klar senast"),
              "resolution": _("Löst senast")}


@dataclass(frozen=True)
class QueueView:
    key: str
    label: Any
    filters: dict[str, Any]


QUEUE_VIEWS = [
    QueueView("active", _("Alla aktiva"), {"status": sorted(Ticket.ACTIVE_STATUSES)}),
    QueueView("new", _("Nya"), {"status": [Ticket.Status.NEW]}),
    QueueView("open", _("Öppna"), {"status": [Ticket.Status.OPEN]}),
    QueueView("mine", _("Mina"), {"status": sorted(Ticket.ACTIVE_STATUSES), "assignee": "me"}),
    QueueView("waiting", _("Väntar"), {"status": [Ticket.Status.WAITING]}),
    QueueView("escalated", _("Eskalerade"), {"status": [Ticket.Status.ESCALATED]}),
]
VIEWS_BY_KEY = {v.key: v for v in QUEUE_VIEWS}


JS_STRINGS = {
    "held": _("%(name)s handlägger ärendet. Ta över innan du svarar."),
    "claimedBy": _("%(name)s tog ärendet"),
    "viewing": _("Tittar också på ärendet: %(names)s"),
    "typing": _("%(names)s skriver…"),
    "residentTyping": _("Invånaren skriver…"),
    "accept": _("Ta chatten"),
    "accepted": _("Chatten är din"),
    "open": _("Öppna"),
    "waitingSince": _("väntar sedan %(time)s"),
    "noContact": _("Okänt nummer – ingen kontakt hittades"),
    "sent": _("Skickat"),
    "noteSaved": _("Anteckningen sparades"),
    "saved": _("Sparat"),
    "failed": _("Det gick inte: %(detail)s"),
    "unavailable": _("Funktionen är inte tillgänglig ännu."),
    "insert": _("Infoga"),
    "noResults": _("Inga träffar."),
    "replyLabel": _("Svar till invånaren"),
    "noteLabel": _("Intern anteckning (syns inte för invånaren)"),
    "offerExpired": _("Erbjudandet gick ut"),
    "seconds": _("%(s)s s"),
    "kind_chat": _("Chatt"),
    "kind_callback": _("Återuppringning"),
    "kind_ticket": _("Ärende"),
    "busy": _("upptagen"),
    "you": _("du"),
    "newTicket": _("Nytt ärende: %(ref)s"),
}


def _require_agent(request: HttpRequest) -> None:
    # Caseworkers have the department workspace; the console is the contact centre's.
    if not getattr(request.user, "sees_all_departments", False):
        raise PermissionDenied


@dataclass(frozen=True)
class Sla:
    due: datetime | None
    css: str
    kind: str
    text: str = ""  # time left ("2 h 5 min"), or past due ("−20 min")
    title: str = ""  # which promise, and when it falls due
    due_iso: str = ""


def compact_duration(delta: timedelta) -> str:
    """The text console.js keeps current (its ``duration()``), so the first paint does not flip
    when the script takes over; also far cheaper than ``timesince`` on every row of the queue."""
    minutes = math.floor(abs(delta.total_seconds()) / 60 + 0.5)
    if minutes < 60:
        return f"{minutes} min"
    hours = minutes // 60
    if hours < 48:
        return f"{hours} h {minutes % 60} min" if minutes % 60 else f"{hours} h "
    return f"{hours // 24} d"


def ticket_sla(ticket: Ticket, now: datetime) -> Sla:
    """The commitment that matters now: the department's handling while escalated, else the first
    response until there is one, then resolution."""
    if not ticket.is_active:
        return Sla(None, "", "")
    if ticket.status == Ticket.Status.ESCALATED and ticket.department_due_at:
        # With the department, its own handling clock is the one running (the contact centre's
        # resolution clock no longer is the promise that matters).
        due, kind = ticket.department_due_at, "department"
    elif ticket.first_response_at is None and ticket.first_response_due_at:
        due, kind = ticket.first_response_due_at, "first_response"
    elif ticket.resolution_due_at:
        due, kind = ticket.resolution_due_at, "resolution"
    else:
        return Sla(None, "", "")
    left = due - now
    css = "sla-breach" if left <= timedelta(0) else "sla-warn" if left <= SLA_WARN else "sla-ok"
    local_due = timezone.localtime(due)
    return Sla(due, css, kind, text=("−" if left <= timedelta(0) else "") + compact_duration(left),
               title=f"{SLA_TITLES[kind]} {date_format(local_due, 'j M H:i')}", due_iso=local_due.isoformat())


def _queue_state(request: HttpRequest) -> dict[str, Any]:
    view = VIEWS_BY_KEY.get(request.GET.get("view", ""), QUEUE_VIEWS[0])
    department = request.GET.get("department", "")
    channel = request.GET.get("channel", "")
    if channel not in Channel.values:
        channel = ""
    q = request.GET.get("q", "").strip()[:200]
    filters = dict(view.filters)
    if department:
        filters["department"] = department
    if channel:
        filters["channel"] = channel
    if q:
        filters["q"] = q
    limit = QUEUE_LIMIT if request.GET.get("all") == "1" else QUEUE_PAGE
    return {"view": view, "department": department, "channel": channel, "q": q, "filters": filters, "limit": limit}


QUEUE_ROW_FIELDS = (
    "reference", "channel", "status", "priority", "subject", "is_complaint", "created_at", "first_response_at",
    "first_response_due_at", "resolution_due_at", "department_due_at", "assignee_id", "department_id", "contact_id",
    "contact__name", "department__name", "assignee__username", "assignee__first_name", "assignee__last_name",
)


def _queue_rows(request: HttpRequest, filters: dict[str, Any], limit: int = QUEUE_PAGE) -> list[Ticket]:
    now = timezone.now()
    # Only what a row shows: the ticket's JSON (routing, tags) and the joined rows' other columns
    # (a department's description, a user's password hash) cost more to load than to render.
    rows = list(selectors.ticket_list(user=request.user, filters=filters).only(*QUEUE_ROW_FIELDS)[:limit])
    # Rendering, not SQL, is most of the queue's cost: what is the same for many rows (labels in
    # the request's language, the channel's icon) is made once per page, not once per row.
    channels = {value: str(label) for value, label in Channel.choices}
    statuses = {value: str(label) for value, label in Ticket.Status.choices}
    priorities = {value: str(label) for value, label in Ticket.Priority.choices}
    icons: dict[str, str] = {}
    for ticket in rows:
        label = channels.get(ticket.channel, ticket.channel)
        if ticket.channel not in icons:
            icons[ticket.channel] = render_to_string("frontend/console/_channel_icon.html",
                                                     {"channel": ticket.channel, "label": label})
        ticket.channel_icon = icons[ticket.channel]  # type: ignore[attr-defined]
        ticket.status_label = statuses.get(ticket.status, ticket.status)  # type: ignore[attr-defined]
        ticket.priority_label = priorities.get(ticket.priority, ticket.priority)  # type: ignore[attr-defined]
        ticket.age_text = compact_duration(now - ticket.created_at)  # type: ignore[attr-defined]
        ticket.created_iso = timezone.localtime(ticket.created_at).isoformat()  # type: ignore[attr-defined]
        ticket.sla = ticket_sla(ticket, now)  # type: ignore[attr-defined]
    return rows


def _queue_counts(request: HttpRequest) -> dict[str, int]:
    active = sorted(Ticket.ACTIVE_STATUSES)
    # Only the active tickets are read (partial index ticket_active_id): the resolved and closed
    # bulk, nearly all of a million tickets, is never scanned to count the tabs.
    # COUNT(status), not COUNT(id): status and assignee are all it reads, so PostgreSQL answers
    # from the ticket_active_counts index alone.
    counts = selectors.ticket_scope(request.user).filter(status__in=active).aggregate(
        active=Count("status"),
        new=Count("status", filter=Q(status=Ticket.Status.NEW)),
        open=Count("status", filter=Q(status=Ticket.Status.OPEN)),
        mine=Count("status", filter=Q(status__in=active, assignee_id=request.user.pk)),
        waiting=Count("status", filter=Q(status=Ticket.Status.WAITING)),
        escalated=Count("status", filter=Q(status=Ticket.Status.ESCALATED)),
    )
    return counts


def _more_url(request: HttpRequest) -> str:
    params = request.GET.copy()
    params.pop("partial", None)
    params["all"] = "1"
    return f"?{params.urlencode()}"


@login_required
def console(request: HttpRequest) -> HttpResponse:
    _require_agent(request)
    # The live id first, then the snapshot: an event in between is replayed, never lost.
    last_event_id = selectors.live_event_last_id()
    state = _queue_state(request)
    counts = _queue_counts(request)
    tabs = [{"key": v.key, "label": v.label, "count": counts.get(v.key, 0)} for v in QUEUE_VIEWS]
    context = {
        **state,
        "nav": "console",
        "js_strings": JS_STRINGS,
        "last_event_id": last_event_id,
        "tickets": _queue_rows(request, state["filters"], state["limit"]),
        "more_url": _more_url(request) if state["limit"] < QUEUE_LIMIT else "",
        "tabs": tabs,
        "now": timezone.now(),
    }
    if request.GET.get("partial") == "rows":
        return render(request, "frontend/console/_queue_body.html", context)
    context["departments"] = list(selectors.department_list())
    context["channels"] = Channel.choices
    return render(request, "frontend/console/queue.html", context)


def _fold(message: Message) -> None:
    """Split an e-mail's text at the quoted history/signature the parser found."""
    meta = message.meta or {}
    fold_at = (meta.get("email") or {}).get("fold_at", meta.get("fold_at"))
    text = message.body_text or ""
    if isinstance(fold_at, int) and 0 < fold_at < len(text):
        message.shown_text, message.folded_text = text[:fold_at].rstrip(), text[fold_at:]  # type: ignore[attr-defined]
    else:
        message.shown_text, message.folded_text = text, ""  # type: ignore[attr-defined]


@login_required
def ticket_view(request: HttpRequest, ref: str) -> HttpResponse:
    _require_agent(request)
    last_event_id = selectors.live_event_last_id()
    try:
        ticket = selectors.ticket_get(user=request.user, reference_or_id=ref)
    except NotFound as exc:
        raise Http404(str(exc)) from exc
    access_log_request(request, action=AccessLog.Action.TICKET_DETAIL, tickets=[ticket])
    messages = list(selectors.message_list(ticket=ticket))
    for message in messages:
        _fold(message)
    earlier: list[Ticket] = []
    if ticket.contact_id:
        earlier = list(
            selectors.ticket_list(user=request.user, filters={"contact": ticket.contact_id})
            .exclude(pk=ticket.pk)[:8]
        )
    routing = ticket.routing or {}
    slugs = [s for s in routing.get("suggestions") or [] if isinstance(s, str)][:6]
    if routing.get("article") and routing["article"] not in slugs:
        slugs.insert(0, routing["article"])
    by_slug = {a.slug: a for a in Article.objects.filter(slug__in=slugs).select_related("department")}
    suggestions = [by_slug[s] for s in slugs if s in by_slug]
    chat = (
        ChatSession.objects.filter(ticket=ticket).exclude(state=ChatSession.State.BOT).order_by("-id").first()
        if ticket.channel == Channel.CHAT else None
    )
    agents = list(
        get_user_model().objects.filter(is_active=True, role__in=["agent", "supervisor"])
        .order_by("first_name", "username").only("username", "first_name", "last_name")
    )
    now = timezone.now()
    held_by_other = ticket.assignee_id is not None and ticket.assignee_id != request.user.pk
    context = {
        "nav": "console",
        "js_strings": JS_STRINGS,
        "last_event_id": last_event_id,
        "ticket": ticket,
        "messages": messages,
        "contact": ticket.contact,
        "contact_emails": list(ticket.contact.emails.all()) if ticket.contact_id else [],
        "contact_phones": list(ticket.contact.phones.all()) if ticket.contact_id else [],
        "earlier": earlier,
        "routing": routing,
        "suggestions": suggestions,
        "chat": chat,
        "departments": list(selectors.department_list()),
        "agents": agents,
        "sla": ticket_sla(ticket, now),
        "held_by_other": held_by_other,
        "now": now,
    }
    return render(request, "frontend/console/ticket.html", context)


urlpatterns = [
    path("", console, name="console"),
    path("t/<str:ref>/", ticket_view, name="console-ticket"),
]
