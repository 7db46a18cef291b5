"""``manage.py run_smtp_intake``: the inbound SMTP listener as its own process."""

from __future__ import annotations

import signal
import threading
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from contactcentre.intake.mail.smtp import IntakeController


class Command(BaseCommand):
    help = "Receive residents' e-mail over SMTP (aiosmtpd) and turn it into tickets."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default=None, help="default: settings.SMTP_INTAKE_HOST")
        parser.add_argument("--port", type=int, default=None, help="default: settings.SMTP_INTAKE_PORT")

    def handle(self, *args: Any, **opts: Any) -> None:
        controller = IntakeController(host=opts["host"], port=opts["port"])
        stop = threading.Event()
        # SIGTERM (systemd, docker, a test) stops as cleanly as Ctrl-C: sessions in DATA finish.
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        signal.signal(signal.SIGINT, lambda *_: stop.set())
        controller.start()
        self.stdout.write(self.style.SUCCESS(controller.describe()))
        self.stdout.flush()
        try:
            stop.wait()
        finally:
            controller.stop()
