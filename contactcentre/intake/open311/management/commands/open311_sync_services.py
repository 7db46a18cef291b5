"""Create the default Open311 services and link them to departments (run after import_knowledge)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from contactcentre.intake.open311.catalogue import catalogue_sync
from contactcentre.intake.open311.models import ServiceDefinition
from contactcentre.tickets.models import Department


class Command(BaseCommand):
    help = "Create missing Open311 services and link them to departments that now exist. Idempotent."

    def handle(self, *args: Any, **options: Any) -> None:
        result = catalogue_sync(service_model=ServiceDefinition, department_model=Department)
        self.stdout.write(
            f"open311 services: {result['created']} created, {result['linked']} linked to departments, "
            f"{result['missing_departments']} department code(s) not imported yet"
        )
