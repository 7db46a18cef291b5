"""Surveys after resolution: scheduled once per ticket, sent by e-mail or in the chat, answered
through a signed public link, opted out of with one click.

* At most once per ticket: ``SurveyInvitation.ticket`` is unique, and dispatch flips the status
  under the row lock, so two sweeps never send the same survey twice.
* Never to someone who opted out (address or contact), never to an automatic sender or our own
  addresses, never over the e-mail channel's per-sender automatic-reply limit, and not to the
  same address twice within ``SURVEY_QUIET_DAYS``.
* Sending happens after commit: the e-mail from a retried Celery job (``Auto-Submitted``), the
  chat frame through the resident's socket group (best effort, as every live frame).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime, timedelta
from email.utils import make_msgid
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.core import signing
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from contactcentre.tickets.errors import ConflictError, DomainError, NotFound
from contactcentre.tickets.models import Channel, Message, Ticket, TicketEvent

from .models import Question, Survey, SurveyAnswer, SurveyInvitation, SurveyOptOut, SurveyResponse
from .texts import LANGUAGES, texts_for

log = logging.getLogger(__name__)
Inv = SurveyInvitation
DONE_STATUSES = (Ticket.Status.RESOLVED, Ticket.Status.CLOSED)
_SALT = "experience.survey"
_OPTOUT_SALT = "experience.survey-optout"
OPTOUT_MAX_AGE_S = 366 * 24 * 3600  # an old survey mail's unsubscribe link keeps working
FREE_TEXT_MAX = 4000


# --- signed links ---------------------------------------------------------------------------

def survey_token(invitation: SurveyInvitation) -> str:
    return signing.dumps({"i": invitation.pk, "t": invitation.ticket_id}, salt=_SALT, compress=True)


def optout_token(invitation: SurveyInvitation) -> str:
    return signing.dumps({"i": invitation.pk}, salt=_OPTOUT_SALT, compress=True)


def invitation_from_token(token: str) -> SurveyInvitation | None:
    try:
        data = signing.loads(token, salt=_SALT, max_age=settings.SURVEY_LINK_MAX_AGE_DAYS * 24 * 3600)
    except signing.BadSignature:  # includes SignatureExpired
        return None
    return (SurveyInvitation.objects.select_related("survey", "ticket")
            .filter(pk=data.get("i"), ticket_id=data.get("t")).first())


def invitation_from_optout_token(token: str) -> SurveyInvitation | None:
    try:
        data = signing.loads(token, salt=_OPTOUT_SALT, max_age=OPTOUT_MAX_AGE_S)
    except signing.BadSignature:
        return None
    return SurveyInvitation.objects.select_related("ticket").filter(pk=data.get("i")).first()


def survey_url(invitation: SurveyInvitation, *, answer: int | None = None) -> str:
    url = settings.PUBLIC_BASE_URL + reverse("frontend:survey", args=[survey_token(invitation)])
    return f"{url}?{urlencode({'a': answer})}" if answer is not None else url


def optout_url(invitation: SurveyInvitation) -> str:
    return settings.PUBLIC_BASE_URL + reverse("frontend:survey-optout", args=[optout_token(invitation)])


# --- scheduling -----------------------------------------------------------------------------

def survey_active() -> Survey | None:
    return Survey.objects.filter(is_active=True).order_by("id").first()


def survey_schedule_on_commit(ticket: Ticket) -> None:
    """Hook for the ticket services: a ticket was resolved. Runs after commit and never breaks
    the resolution (robust); the periodic sweep catches anything missed."""
    ticket_id = ticket.pk
    transaction.on_commit(lambda: survey_schedule(ticket_id=ticket_id), robust=True)


def survey_schedule(*, ticket_id: int, now: datetime | None = None) -> SurveyInvitation | None:
    """Plan the ticket's one survey (idempotent). Chat surveys are due at once, while the
    resident is still there; e-mail ones after ``SURVEY_EMAIL_DELAY_MINUTES``."""
    if not settings.SURVEYS_ENABLED:
        return None
    now = now or timezone.now()
    ticket = Ticket.objects.filter(pk=ticket_id).only("pk", "status", "channel", "language").first()
    survey = survey_active()
    if ticket is None or survey is None or ticket.status not in DONE_STATUSES:
        return None
    delay = timedelta(0) if ticket.channel == Channel.CHAT else timedelta(minutes=settings.SURVEY_EMAIL_DELAY_MINUTES)
    language = ticket.language if ticket.language in LANGUAGES else "sv"
    try:
        with transaction.atomic():
            invitation, created = SurveyInvitation.objects.get_or_create(
                ticket_id=ticket.pk,
                defaults={"survey": survey, "language": language, "send_after": now + delay, "created_at": now},
            )
    except IntegrityError:  # a concurrent scheduler won: theirs is the one
        return SurveyInvitation.objects.filter(ticket_id=ticket.pk).first()
    if created and invitation.send_after <= now:
        survey_dispatch(invitation_id=invitation.pk, now=now)
        invitation.refresh_from_db()
    return invitation


def surveys_sweep(*, now: datetime | None = None, limit: int = 200) -> dict[str, int]:
    """The periodic job: schedule surveys for recently resolved tickets the hook missed (e.g.
    a chat the resident closed as answered), then dispatch those that came due."""
    now = now or timezone.now()
    counts = {"scheduled": 0, "dispatched": 0}
    if not settings.SURVEYS_ENABLED:
        return counts
    since = now - timedelta(hours=settings.SURVEY_SWEEP_LOOKBACK_HOURS)
    missing = (Ticket.objects.filter(status__in=DONE_STATUSES, resolved_at__gte=since, survey_invitation__isnull=True,
                                     merged_into__isnull=True).values_list("pk", flat=True)[:limit])
    for ticket_id in list(missing):
        if survey_schedule(ticket_id=ticket_id, now=now) is not None:
            counts["scheduled"] += 1
    due = Inv.objects.filter(status=Inv.Status.SCHEDULED, send_after__lte=now).order_by("send_after")
    for invitation_id in list(due.values_list("pk", flat=True)[:limit]):
        if survey_dispatch(invitation_id=invitation_id, now=now) in (Inv.Status.QUEUED, Inv.Status.SENT):
            counts["dispatched"] += 1
    # Queued long ago but never sent: the wake-up publish failed (Redis away). Queue it again;
    # the send task only sends what is still queued.
    from contactcentre.ops.jobs import enqueue

    from .tasks import survey_email_send_task

    stuck = Inv.objects.filter(status=Inv.Status.QUEUED, send_after__lte=now - timedelta(minutes=10))
    for invitation_id in list(stuck.values_list("pk", flat=True)[:limit]):
        enqueue(survey_email_send_task, invitation_id)
    return counts


# --- dispatch -------------------------------------------------------------------------------

def _opted_out(address: str, contact_id: int | None) -> bool:
    q = Q(address=address) if address else Q(pk__in=[])
    if contact_id:
        q |= Q(contact_id=contact_id)
    return SurveyOptOut.objects.filter(q).exists()


def _automatic_sender(ticket: Ticket) -> bool:
    # The e-mail channel recorded why it would not auto-reply (Auto-Submitted, list, bounce...):
    # a survey to a robot is a loop waiting to happen. The hourly rate limit is checked apart.
    for meta in Message.objects.filter(ticket=ticket, direction=Message.Direction.INBOUND,
                                       channel=Channel.EMAIL).values_list("meta", flat=True):
        reasons = set(((meta or {}).get("email") or {}).get("no_auto_reply") or []) - {"rate-limited"}
        if reasons:
            return True
    return False


def _chat_session(ticket: Ticket) -> Any:
    from contactcentre.intake.chat.models import ChatSession

    return ChatSession.objects.filter(ticket=ticket).order_by("-id").first()


def _address_for(ticket: Ticket, session: Any) -> str:
    from contactcentre.intake.mail.services import mail_normalise_address, ticket_reply_address

    if session is not None and session.resident_email:
        return mail_normalise_address(session.resident_email)
    return ticket_reply_address(ticket)[1]


def survey_dispatch(*, invitation_id: int, now: datetime | None = None) -> str:
    """Decide, under the row lock, whether and how the survey goes out; send after commit."""
    from contactcentre.intake.mail.services import _own_addresses, auto_reply_allowed

    now = now or timezone.now()
    with transaction.atomic():
        invitation = Inv.objects.select_for_update().get(pk=invitation_id)
        if invitation.status != Inv.Status.SCHEDULED:
            return invitation.status
        ticket = Ticket.objects.select_related("contact").get(pk=invitation.ticket_id)
        reason = ""
        if ticket.merged_into_id is not None or ticket.channel == Channel.INTERNAL or ticket.held_for_id:
            reason = "not_a_contact"
        elif ticket.status not in DONE_STATUSES:
            if now - invitation.created_at < timedelta(days=settings.SURVEY_LINK_MAX_AGE_DAYS):
                return "waiting"  # reopened: the survey goes when it is resolved again
            reason = "not_resolved"
        session = _chat_session(ticket) if ticket.channel == Channel.CHAT else None
        address = "" if reason else _address_for(ticket, session)
        live_chat = bool(session is not None and session.last_seen_at
                         and now - session.last_seen_at <= timedelta(seconds=settings.SURVEY_CHAT_LIVE_S))
        if not reason:
            if _opted_out(address, ticket.contact_id):
                reason = "opted_out"
            elif not live_chat:
                if not address:
                    reason = "no_address"
                elif address in _own_addresses() or _automatic_sender(ticket):
                    reason = "automatic_sender"
                elif not auto_reply_allowed(address, now=now):
                    reason = "rate_limited"
                elif Inv.objects.filter(address=address, sent_at__gte=now - timedelta(days=settings.SURVEY_QUIET_DAYS)).exists():
                    reason = "recently_surveyed"
        invitation.address = address
        if reason:
            invitation.status, invitation.skip_reason = Inv.Status.SKIPPED, reason
            invitation.save(update_fields=["status", "skip_reason", "address"])
            TicketEvent.objects.create(ticket=ticket, kind="survey_skipped", to_value=reason)
            return invitation.status
        if live_chat:
            invitation.via, invitation.status, invitation.sent_at = Inv.Via.CHAT, Inv.Status.SENT, now
            invitation.save(update_fields=["via", "status", "sent_at", "address"])
            TicketEvent.objects.create(ticket=ticket, kind="survey_sent", to_value="chat")
            session_id, frame = session.pk, _chat_frame(invitation)
            transaction.on_commit(lambda: _chat_send(invitation.pk, session_id, frame))
            return invitation.status
        invitation.via, invitation.status = Inv.Via.EMAIL, Inv.Status.QUEUED
        invitation.message_id = make_msgid(domain=settings.EMAIL_MESSAGE_ID_DOMAIN)
        invitation.save(update_fields=["via", "status", "message_id", "address"])
        from contactcentre.ops.jobs import enqueue_on_commit

        from .tasks import survey_email_send_task

        pk = invitation.pk
        enqueue_on_commit(survey_email_send_task, pk)
        return invitation.status


def _chat_frame(invitation: SurveyInvitation) -> dict[str, Any]:
    return {"type": "survey", "text": texts_for(invitation.language)["chat"], "url": survey_url(invitation),
            "scale": [survey_url(invitation, answer=n) for n in range(1, 6)]}


def _chat_send(invitation_id: int, session_id: int, frame: dict[str, Any]) -> None:
    from contactcentre.intake.chat.services import chat_group
    from contactcentre.tickets.events import broadcast

    if not broadcast([chat_group(session_id)], frame):
        # The live link was down: counted as not sent, so the response rate stays honest.
        Inv.objects.filter(pk=invitation_id).update(status=Inv.Status.FAILED, sent_at=None, error="live link down")


def survey_email_build(invitation: SurveyInvitation) -> EmailMultiAlternatives:
    ticket = invitation.ticket
    t = texts_for(invitation.language)
    name = (ticket.contact.name if ticket.contact_id and ticket.contact else "").strip()
    first = invitation.survey.questions.filter(is_active=True, kind=Question.Kind.SCALE).order_by("order", "id").first()
    scale = range(first.scale_min, first.scale_max + 1) if first else range(1, 6)
    links = [(n, survey_url(invitation, answer=n)) for n in scale]
    full, optout = survey_url(invitation), optout_url(invitation)
    intro = t["mail_intro"].format(name=f" {name}" if name else "", subject=ticket.subject[:120])
    question = first.text_in(invitation.language) if first else ""
    body = "\n".join([
        intro, "", question, t["mail_pick"], *[f"  {n}: {url}" for n, url in links], "",
        t["mail_full"], full, "", t["mail_optout"], optout, "", t["mail_footer"],
    ])
    buttons = "".join(
        f'<a href="{escape(url)}" style="display:inline-block;min-width:2.2em;padding:.5em .7em;margin:0 .2em;'
        f'border:1px solid #005b8f;border-radius:6px;color:#005b8f;text-decoration:none;font-weight:bold;'
        f'text-align:center">{n}</a>' for n, url in links)
    html = (
        f'<div style="font-family:Arial,sans-serif;max-width:36em">'
        f'<p>{escape(intro).replace(chr(10), "<br>")}</p><p><strong>{escape(question)}</strong><br>'
        f'{escape(t["mail_pick"])}</p><p>{buttons}</p>'
        f'<p><a href="{escape(full)}">{escape(t["mail_full"])}</a></p>'
        f'<p style="color:#555;font-size:.85em">{escape(t["mail_footer"]).replace(chr(10), "<br>")}<br>'
        f'<a href="{escape(optout)}">{escape(t["optout_link"])}</a></p></div>'
    )
    message = EmailMultiAlternatives(
        subject=t["mail_subject"], body=body, from_email=settings.DEFAULT_FROM_EMAIL, to=[invitation.address],
        headers={
            "Message-ID": invitation.message_id,
            "Auto-Submitted": "auto-generated",  # RFC 3834: no robot should answer it
            "X-Auto-Response-Suppress": "All",
            "Precedence": "bulk",
            # RFC 8058 one-click unsubscribe: mail clients POST to the link.
            "List-Unsubscribe": f"<{optout}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    )
    message.attach_alternative(html, "text/html")
    return message


def survey_email_send(*, invitation_id: int) -> str:
    """Send a queued survey mail once. Raises on a temporary failure (the job retries)."""
    with transaction.atomic():
        invitation = Inv.objects.select_for_update().get(pk=invitation_id)
        if invitation.status != Inv.Status.QUEUED:
            return "skipped"
    invitation = Inv.objects.select_related("ticket__contact", "survey").get(pk=invitation_id)
    survey_email_build(invitation).send()
    with transaction.atomic():
        Inv.objects.filter(pk=invitation_id, status=Inv.Status.QUEUED).update(status=Inv.Status.SENT, sent_at=timezone.now())
        TicketEvent.objects.create(ticket_id=invitation.ticket_id, kind="survey_sent", to_value="email")
    return "sent"


def survey_email_failed(*, invitation_id: int, error: str) -> None:
    Inv.objects.filter(pk=invitation_id, status=Inv.Status.QUEUED).update(status=Inv.Status.FAILED, error=error[:1000])


# --- answers and opt-out --------------------------------------------------------------------

def survey_questions(invitation: SurveyInvitation) -> list[Question]:
    return list(invitation.survey.questions.filter(is_active=True).order_by("order", "id"))


def _parse(question: Question, raw: Any) -> dict[str, Any] | None:
    raw = (str(raw) if raw is not None else "").strip()
    if not raw:
        return None
    if question.kind == Question.Kind.SCALE:
        try:
            value = int(raw)
        except ValueError:
            value = question.scale_min - 1
        if not question.scale_min <= value <= question.scale_max:
            raise DomainError(f"'{question.code}' is answered on {question.scale_min}-{question.scale_max}.",
                              code="invalid_answer")
        return {"value_int": value}
    if question.kind == Question.Kind.YES_NO:
        if raw not in ("yes", "no"):
            raise DomainError(f"'{question.code}' is answered yes or no.", code="invalid_answer")
        return {"value_bool": raw == "yes"}
    return {"value_text": raw[:FREE_TEXT_MAX]}


@transaction.atomic
def survey_respond(*, invitation_id: int, answers: Mapping[str, Any], language: str = "",
                   now: datetime | None = None) -> SurveyResponse:
    """Record the one response to an invitation (a second one is refused: 409)."""
    invitation = Inv.objects.select_for_update().filter(pk=invitation_id).first()
    if invitation is None:
        raise NotFound("Survey not found.")
    if invitation.status not in (Inv.Status.QUEUED, Inv.Status.SENT) or invitation.responded_at:
        raise ConflictError("This survey has already been answered or was never sent.", code="already_answered")
    parsed: list[tuple[Question, dict[str, Any]]] = []
    missing = []
    for question in survey_questions(invitation):
        value = _parse(question, answers.get(question.code))
        if value is None:
            if question.required:
                missing.append(question.code)
            continue
        parsed.append((question, value))
    if missing:
        raise DomainError(f"Required: {', '.join(missing)}.", code="answer_required")
    if not parsed:
        raise DomainError("Answer at least one question.", code="answer_required")
    now = now or timezone.now()
    response = SurveyResponse.objects.create(invitation=invitation, submitted_at=now,
                                             language=language if language in LANGUAGES else invitation.language)
    SurveyAnswer.objects.bulk_create(SurveyAnswer(response=response, question=q, **v) for q, v in parsed)
    invitation.responded_at = now
    invitation.save(update_fields=["responded_at"])
    # The audit says that, not what: free text can hold personal details agents need not see.
    TicketEvent.objects.create(ticket_id=invitation.ticket_id, kind="survey_answered", to_value=str(response.pk))
    return response


@transaction.atomic
def survey_opt_out(*, invitation_id: int, now: datetime | None = None) -> SurveyOptOut:
    invitation = Inv.objects.select_related("ticket").filter(pk=invitation_id).first()
    if invitation is None:
        raise NotFound("Survey not found.")
    contact_id = invitation.ticket.contact_id
    address = invitation.address
    if address:
        opt_out, _ = SurveyOptOut.objects.get_or_create(address=address, defaults={"contact_id": contact_id,
                                                                                    "created_at": now or timezone.now()})
    else:
        opt_out = (SurveyOptOut.objects.filter(contact_id=contact_id, address="").first()
                   or SurveyOptOut.objects.create(contact_id=contact_id, created_at=now or timezone.now()))
    # Anything still planned for this person is not sent.
    who = Q(address=address) if address else Q(pk__in=[])
    if contact_id:
        who |= Q(ticket__contact_id=contact_id)
    Inv.objects.filter(who, status=Inv.Status.SCHEDULED).update(status=Inv.Status.SKIPPED, skip_reason="opted_out")
    return opt_out
