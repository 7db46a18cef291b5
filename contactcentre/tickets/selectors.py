"""Reads: every query the API and the console make, with their joins decided here."""

from __future__ import annotations

import re
from typing import Any

from django.db import connection
from django.db.models import (
    BooleanField,
    Exists,
    Expression,
    Field,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
)
from django.db.models.expressions import RawSQL

from .errors import NotFound
from .models import Contact, Department, LiveEvent, Message, Ticket


def ticket_scope(user: Any) -> QuerySet[Ticket]:
    """The tickets a member of staff may see: all for the contact centre, their own department's
    for caseworkers, nothing for anyone else."""
    qs = Ticket.objects.all()
    if not getattr(user, "is_staff_member", False):
        return qs.none()
    if user.sees_all_departments:
        return qs
    if not user.department_id:
        return qs.none()
    # Caseworkers see what was escalated to their department, nothing the contact centre keeps.
    return qs.filter(department_id=user.department_id, escalated_at__isnull=False)


def ticket_list(*, user: Any, filters: dict[str, Any] | None = None) -> QuerySet[Ticket]:
    filters = filters or {}
    scope = ticket_scope(user)
    qs = scope.select_related("department", "assignee", "contact")
    if status := filters.get("status"):
        qs = qs.filter(status__in=status) if isinstance(status, list | tuple) else qs.filter(status=status)
    if department := filters.get("department"):
        qs = qs.filter(department__code=department)
    if channel := filters.get("channel"):
        qs = qs.filter(channel=channel)
    if "assignee" in filters:
        assignee = filters["assignee"]
        if assignee in ("", "none", None):
            qs = qs.filter(assignee__isnull=True)
        elif assignee == "me":
            qs = qs.filter(assignee_id=user.pk)
        else:
            qs = qs.filter(assignee__username=assignee)
    if filters.get("complaint") is not None:
        qs = qs.filter(is_complaint=filters["complaint"])
    if contact := filters.get("contact"):
        qs = qs.filter(contact_id=contact)
    if text := (filters.get("q") or "").strip():
        if connection.vendor == "postgresql":
            # Only the scope, no other filter: the search table alone can find the window.
            whole_scope = qs.query.where == scope.query.where
            statuses = [status] if isinstance(status, str) else status or []
            within_backlog = bool(statuses) and set(statuses) <= Ticket.ACTIVE_STATUSES
            return _ticket_search_postgres(qs, text, scope=_search_scope(user) if whole_scope else None,
                                           within_backlog=within_backlog)
        in_messages = Message.objects.filter(ticket_id=OuterRef("pk"), body_text__icontains=text)
        qs = qs.filter(
            Q(reference__iexact=text) | Q(subject__icontains=text) | Q(contact__name__icontains=text) | Exists(in_messages)
        )
    return qs.order_by("-id")


# --- full-text search (PostgreSQL) -------------------------------------------------------------
#
# Each ticket has a row in ``tickets_ticket_search`` (tsvector, ``swedish`` configuration: the
# subject with weight A, every message body with weight B) under a GIN index. Triggers keep it
# current on every write to a ticket's subject or to its messages, whoever writes (intake, replies,
# merges, GDPR erasure, disposal): see migrations tickets/0003 and 0004. The table is not a model:
# it exists only on PostgreSQL. SQLite falls back to icontains.

SEARCH_CONFIG = "swedish"
_WORD = re.compile(r"\w+", re.UNICODE)
# Words this long or longer also match as prefixes ("bygglov" finds "bygglovet", "ansökning"
# finds "ansökningarna"): the Swedish stemmer leaves many definite forms alone.
SEARCH_PREFIX_MIN = 4
SEARCH_MAX_WORDS = 8
# How many of the newest matches are ranked (see _ticket_search_postgres).
SEARCH_WINDOW = 200


def search_tsquery(text: str) -> str:
    """``to_tsquery`` input for what an agent typed: every word must occur (AND), longer words also
    as prefixes. Only word characters pass, so the operators of the tsquery syntax cannot be
    injected; the database still stems each word and drops stop words."""
    words = [w.lower() for w in _WORD.findall(text)][:SEARCH_MAX_WORDS]
    terms = [f"'{w}':*" if len(w) >= SEARCH_PREFIX_MIN else f"'{w}'" for w in words]
    return " & ".join(terms)


class _SearchExpression(Expression):
    """Whether the ticket's vector matches (or its rank). The vector is in ``tickets_ticket_search``,
    not a model, so the ticket's alias is resolved when compiling: in a subquery it is ``U0``."""

    # Only constants and the compiler's quoted alias go into the text; the words are parameters.
    template = ("EXISTS (SELECT 1 FROM tickets_ticket_search s WHERE s.ticket_id = {ticket}.id"
                " AND s.search_vector @@ to_tsquery(%s::regconfig, %s))")

    def __init__(self, tsquery: str, output_field: Field) -> None:
        super().__init__(output_field=output_field)
        self.tsquery = tsquery

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        ticket = compiler.quote_name_unless_alias(compiler.query.get_initial_alias())
        return self.template.format(ticket=ticket), [SEARCH_CONFIG, self.tsquery]


class _SearchTest(_SearchExpression):
    """The same test, kept a per-row probe: PostgreSQL turns a plain EXISTS into a join or a hashed
    subplan, and may then fetch every match in the city (40,000 rows for "bygglov altan" at a
    million tickets, most of a second from disk) to keep the few that are active. An OFFSET in
    the subquery rules both rewrites out."""

    template = _SearchExpression.template[:-1] + " OFFSET 0)"


class _SearchRank(_SearchExpression):
    # ts_rank_cd is a float4; scaled to an integer so the cursor's position compares exactly.
    # Normalisation 1 divides by 1 + log(document length): a long e-mail thread that mentions the
    # word once does not outrank a short ticket about it.
    template = ("(SELECT (ts_rank_cd(s.search_vector, to_tsquery(%s::regconfig, %s), 1) * 1000000)::integer"
                " FROM tickets_ticket_search s WHERE s.ticket_id = {ticket}.id)")


def _search_scope(user: Any) -> str | int | None:
    """What ``ticket_scope`` allows, in the terms of ``tickets_ticket_search``: ``"all"``, a
    department id (``escalated_department_id``, kept by triggers: migration 0005), or None."""
    if not getattr(user, "is_staff_member", False):
        return None
    if user.sees_all_departments:
        return "all"
    return user.department_id or None


def _ticket_search_postgres(qs: QuerySet[Ticket], text: str, *, scope: str | int | None,
                            within_backlog: bool = False) -> QuerySet[Ticket]:
    """The newest ``SEARCH_WINDOW`` matches, ranked most relevant first (subject hits outrank body
    hits), then newest; a ticket reference typed exactly is always found.

    The matches come from the GIN index, or from walking the newest tickets backwards when the
    word is everywhere (the planner chooses). Ranking reads every candidate's vector, so it is
    bounded: a word on a third of a million tickets would otherwise rank 300,000 rows per page.
    Within the window the order is pure relevance; an agent who needs older matches adds words or
    filters (status, department, channel, contact)."""
    tsquery = search_tsquery(text)
    # The reference is its own branch of a UNION: OR-ed with the match, the planner could use
    # neither index and would test every ticket.
    candidates = qs.filter(reference=text.upper()).values("id")
    if tsquery and scope == "all":
        # Everything in scope, no filters (agents): the window is read from the search table alone.
        newest = RawSQL(  # noqa: S611  (constant text; the words and the limit are parameters)
            "SELECT ticket_id FROM tickets_ticket_search WHERE search_vector @@ to_tsquery(%s::regconfig, %s)"
            " ORDER BY ticket_id DESC LIMIT %s", (SEARCH_CONFIG, tsquery, SEARCH_WINDOW))
        candidates = candidates.union(Ticket.objects.filter(pk__in=newest).values("id"))
    elif tsquery and scope is not None:
        # A caseworker's whole scope: one scan of the (department, vector) GIN index.
        newest = RawSQL(  # noqa: S611  (constant text; the department, words and limit are parameters)
            "SELECT ticket_id FROM tickets_ticket_search WHERE escalated_department_id = %s"
            " AND search_vector @@ to_tsquery(%s::regconfig, %s) ORDER BY ticket_id DESC LIMIT %s",
            (scope, SEARCH_CONFIG, tsquery, SEARCH_WINDOW))
        candidates = candidates.union(Ticket.objects.filter(pk__in=newest).values("id"))
    elif tsquery:
        # Filtered to active statuses (the queue's tabs): at most the backlog is walked, newest
        # first, each ticket's vector tested, stopping at the window. Other filters (a channel,
        # a contact) may leave most of the city's tickets: there the planner chooses.
        test = _SearchTest if within_backlog else _SearchExpression
        window = (qs.annotate(search_match=test(tsquery, BooleanField())).filter(search_match=True)
                  .order_by("-id").values("id")[:SEARCH_WINDOW])
        candidates = candidates.union(window)
    # The scope again on the (at most SEARCH_WINDOW + 1) candidates: cheap, and what a user may
    # see never rests on the search table alone.
    return (qs.filter(pk__in=candidates)
            .annotate(search_rank=_SearchRank(tsquery, IntegerField())).order_by("-search_rank", "-id"))


def ticket_get(*, user: Any, reference_or_id: str | int) -> Ticket:
    qs = ticket_scope(user).select_related("department", "assignee", "contact", "held_for", "merged_into")
    key = str(reference_or_id)
    ticket = qs.filter(pk=int(key)).first() if key.isdigit() else qs.filter(reference=key.upper()).first()
    if ticket is None:
        raise NotFound(f"Ticket {key} does not exist.")
    return ticket


def message_list(*, ticket: Ticket) -> QuerySet[Message]:
    return ticket.messages.select_related("author").prefetch_related("attachments").order_by("created_at", "id")


def contact_scope(user: Any) -> QuerySet[Contact]:
    if not getattr(user, "is_staff_member", False):
        return Contact.objects.none()
    if user.sees_all_departments:
        return Contact.objects.all()
    return Contact.objects.filter(
        tickets__department_id=user.department_id, tickets__escalated_at__isnull=False
    ).distinct()


def contact_list(*, user: Any, q: str = "") -> QuerySet[Contact]:
    qs = contact_scope(user).prefetch_related("emails", "phones")
    if q := q.strip():
        qs = qs.filter(Q(name__icontains=q) | Q(emails__address__icontains=q) | Q(phones__number__icontains=q)
                       | Q(organisation_number=q)).distinct()
    return qs.order_by("-id")


def contact_get(*, user: Any, contact_id: int) -> Contact:
    contact = (
        contact_scope(user)
        .prefetch_related(
            "emails",
            "phones",
            Prefetch("tickets", queryset=Ticket.objects.select_related("department").order_by("-id")),
        )
        .filter(pk=contact_id)
        .first()
    )
    if contact is None:
        raise NotFound(f"Contact {contact_id} does not exist.")
    return contact


def department_list() -> QuerySet[Department]:
    return Department.objects.filter(is_active=True).order_by("name")


def live_events_since(*, user: Any, since: int, limit: int = 500) -> list[LiveEvent]:
    """Events a reconnecting client missed, in order, filtered to what the user may see."""
    qs = LiveEvent.objects.filter(id__gt=since).order_by("id")
    if not getattr(user, "is_staff_member", False):
        return []
    if not user.sees_all_departments:
        code = user.department.code if user.department_id else None
        if not code:
            return []
        qs = qs.filter(department_code=code)
    return list(qs[:limit])


def live_event_last_id() -> int:
    last = LiveEvent.objects.order_by("-id").values_list("id", flat=True).first()
    return last or 0
