"""``manage.py mail_quarantine list`` / ``reprocess ID [ID ...] [--ignore-limits]``."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from contactcentre.intake.mail.models import QuarantinedMail
from contactcentre.intake.mail.services import mail_quarantine_reprocess


class Command(BaseCommand):
    help = "List the inbound mail held in quarantine, or run some through intake again after a fix."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        listing = sub.add_parser("list", help="mail still in quarantine")
        listing.add_argument("--all", action="store_true", help="also re-processed and discarded mail")
        again = sub.add_parser("reprocess", help="run quarantined mail through intake again")
        again.add_argument("ids", nargs="+", type=int)
        again.add_argument("--ignore-limits", action="store_true",
                           help="skip the part/nesting/header limits (for mail you have looked at)")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "list":
            rows = QuarantinedMail.objects.defer("raw").order_by("received_at", "id")
            if not options["all"]:
                rows = rows.filter(status=QuarantinedMail.Status.QUARANTINED)
            for item in rows:
                self.stdout.write(f"{item.pk}\t{item.received_at:%Y-%m-%d %H:%M}\t{item.status}\t{item.reason}\t"
                                  f"{item.size}\t{item.envelope_from or item.header_from}\t{item.subject[:60]}")
            return
        failed = 0
        for pk in options["ids"]:
            try:
                received = mail_quarantine_reprocess(quarantined_id=pk, enforce_limits=not options["ignore_limits"])
            except QuarantinedMail.DoesNotExist:
                self.stderr.write(f"{pk}: no such quarantined mail")
                failed += 1
            except Exception as exc:  # noqa: BLE001 - one bad mail must not stop the others
                self.stderr.write(f"{pk}: still quarantined ({type(exc).__name__}: {exc})")
                failed += 1
            else:
                self.stdout.write(f"{pk}: {received.kind} {received.reference}".rstrip())
        if failed:
            raise CommandError(f"{failed} mail could not be re-processed")
