"""Outbound delivery: an agent's reply leaves through the ticket's own channel.

Each channel registers a deliverer (``settings.CONTACTCENTRE_OUTBOUND``: channel -> dotted path of
a callable taking a message id). Delivery runs after the reply's transaction commits, as a
background task where a worker exists, in-process on the embedded default.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import cache

from django.conf import settings
from django.db import transaction
from django.utils.module_loading import import_string

from contactcentre.tickets.models import Message

log = logging.getLogger(__name__)

DEFAULT_OUTBOUND: dict[str, str] = {
    # Web, Open311 and phone residents read replies on their signed status page; nothing to send.
    "web": "contactcentre.intake.outbound.deliver_via_status_page",
    "open311": "contactcentre.intake.outbound.deliver_via_status_page",
    "phone": "contactcentre.intake.outbound.deliver_via_status_page",
}


@cache
def deliverer_for(channel: str) -> Callable[[int], None] | None:
    # Imported per channel, so one channel's adapter never breaks replies on the others.
    path = (DEFAULT_OUTBOUND | getattr(settings, "CONTACTCENTRE_OUTBOUND", {})).get(channel)
    return import_string(path) if path else None


def deliver_on_commit(message: Message) -> None:
    deliverer = deliverer_for(message.channel)
    if deliverer is None:
        return
    transaction.on_commit(lambda: deliverer(message.pk))


def deliver_via_status_page(message_id: int) -> None:
    """The resident sees the reply on the ticket's signed status page: it is delivered once stored."""
    Message.objects.filter(pk=message_id, delivery_status=Message.Delivery.PENDING).update(
        delivery_status=Message.Delivery.SENT
    )
