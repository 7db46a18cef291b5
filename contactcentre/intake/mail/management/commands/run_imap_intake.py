"""``manage.py run_imap_intake``: poll an IMAP mailbox for residents' e-mail."""

from __future__ import annotations

import logging
import signal
import threading
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import close_old_connections

from contactcentre.intake.mail.imap import imap_connect, imap_poll_once

log = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "Poll the IMAP mailbox (IMAP_INTAKE_*) and turn unseen mail into tickets."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="poll once and exit")
        parser.add_argument("--interval", type=int, default=None, help="seconds between polls")

    def handle(self, *args: Any, **opts: Any) -> None:
        if not settings.IMAP_INTAKE_HOST:
            raise CommandError("Set IMAP_INTAKE_HOST, IMAP_INTAKE_USER and IMAP_INTAKE_PASSWORD.")
        interval = opts["interval"] or settings.IMAP_INTAKE_INTERVAL_S
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        signal.signal(signal.SIGINT, lambda *_: stop.set())
        while not stop.is_set():
            # A long-lived poller must not keep using a connection the database already dropped.
            close_old_connections()
            try:
                client = imap_connect()
                try:
                    result = imap_poll_once(client)
                finally:
                    try:
                        client.logout()
                    except Exception:  # noqa: BLE001 - the session is over either way
                        log.debug("IMAP logout failed", exc_info=True)
                self.stdout.write(f"stored {len(result.stored)}, rejected {len(result.rejected)}, "
                                  f"too large {len(result.too_large)}, failed {len(result.failed)}")
            except Exception:
                # The mailbox server is away: try again next interval, never exit the poller.
                log.exception("IMAP poll failed")
                if opts["once"]:
                    raise
            if opts["once"]:
                return
            stop.wait(interval)
