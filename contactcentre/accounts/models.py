from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _


class User(AbstractUser):
    """A member of staff. Residents have no accounts: they reach their ticket by signed link."""

    class Role(models.TextChoices):
        AGENT = "agent", _("Agent")
        CASEWORKER = "caseworker", _("Handläggare")
        SUPERVISOR = "supervisor", _("Arbetsledare")
        ADMIN = "admin", _("Administratör")

    role = models.CharField(max_length=16, choices=Role.choices, blank=True, default="")
    # Caseworkers belong to one department; agents may list the departments they know well.
    department = models.ForeignKey(
        "tickets.Department", null=True, blank=True, on_delete=models.SET_NULL, related_name="caseworkers"
    )
    languages = models.JSONField(default=list, blank=True, help_text=_("Språk agenten arbetar på, t.ex. ['sv', 'fi']"))
    capacity = models.PositiveSmallIntegerField(default=3, help_text=_("Samtidiga chattar/ärenden som kan erbjudas"))

    @property
    def is_staff_member(self) -> bool:
        return bool(self.is_active and (self.role or self.is_superuser))

    @property
    def sees_all_departments(self) -> bool:
        return self.is_superuser or self.role in {self.Role.AGENT, self.Role.SUPERVISOR, self.Role.ADMIN}
