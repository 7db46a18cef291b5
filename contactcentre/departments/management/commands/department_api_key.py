"""`manage.py department_api_key bygglov "Ärendesystem X"`: create a key, print it once."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from contactcentre.departments.services import department_api_key_create
from contactcentre.tickets.models import Department


class Command(BaseCommand):
    help = "Create an API key a department's case-management system uses to answer residents."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("department", help="department code, e.g. bygglov")
        parser.add_argument("name", help="which system the key belongs to")

    def handle(self, *args: Any, **options: Any) -> None:
        department = Department.objects.filter(code=options["department"]).first()
        if department is None:
            raise CommandError(f"No department {options['department']!r}.")
        key, raw = department_api_key_create(department=department, name=options["name"])
        self.stdout.write(f"Key {key.prefix} for {department.name} (shown once, store it now):\n{raw}")
