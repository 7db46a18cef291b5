from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from contactcentre.ops.demo import DEMO_PASSWORD, DEMO_STAFF, demo_load


class Command(BaseCommand):
    help = "Load the demo knowledge base, demo staff and a few enquiries (idempotent; refused in production)."

    def handle(self, *args, **opts):  # type: ignore[no-untyped-def]
        try:
            counts = demo_load(stdout=self.stdout)
        except RuntimeError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(self.style.SUCCESS(f"Demo data ready: {counts['tickets']} tickets ({counts['created']} new)."))
        self.stdout.write(f"Demo logins (password '{DEMO_PASSWORD}'):")
        for username, role, dept, *_ in DEMO_STAFF:
            self.stdout.write(f"  {username:8} {role}{' · ' + dept if dept else ''}")
