from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from contactcentre.accounts.services import ROLES, staff_create_or_update
from contactcentre.tickets.errors import DomainError


class Command(BaseCommand):
    help = "Create or update a member of staff: agent, caseworker (with --department), supervisor or admin."

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("username")
        parser.add_argument("--role", required=True, choices=ROLES)
        parser.add_argument("--department", default="", help="department code (required for caseworkers)")
        parser.add_argument("--password", default=None, help="omit to generate one (printed once)")
        parser.add_argument("--email", default="")
        parser.add_argument("--languages", default="", help="comma-separated, e.g. sv,fi")

    def handle(self, *args, **opts):  # type: ignore[no-untyped-def]
        languages = [x.strip() for x in opts["languages"].split(",") if x.strip()] or None
        try:
            user, generated, created = staff_create_or_update(
                username=opts["username"], role=opts["role"], department_code=opts["department"],
                password=opts["password"], email=opts["email"], languages=languages,
            )
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        except ValidationError as exc:
            raise CommandError("Password refused: " + " ".join(exc.messages)) from exc
        verb = "Created" if created else "Updated"
        self.stdout.write(self.style.SUCCESS(f"{verb} {user.get_username()} ({user.role})"))
        if generated:
            self.stdout.write(f"Generated password (shown once): {generated}")
