"""Customer experience: surveys after resolution, their answers, and opt-outs.

Compatible with SKR's Servicemätning (bemötande, tydlighet and enkelhet on 1-5) plus "did you
get the answer you needed?" and free text; questions and scales are data, not code.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Survey(models.Model):
    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=200)
    # The survey sent after a resolution; exactly one should be active.
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class Question(models.Model):
    class Kind(models.TextChoices):
        SCALE = "scale", _("Skala")
        YES_NO = "yes_no", _("Ja/nej")
        TEXT = "text", _("Fritext")

    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="questions")
    # Stable across wording changes: indicators refer to questions by code (bemotande, enkelhet...).
    code = models.SlugField(max_length=40)
    order = models.PositiveSmallIntegerField(default=0)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    # {"sv": "...", "en": "...", "fi": "..."}
    text = models.JSONField(default=dict)
    scale_min = models.PositiveSmallIntegerField(default=1)
    scale_max = models.PositiveSmallIntegerField(default=5)
    # Words at the ends of the scale, per language: {"sv": ["Mycket dåligt", "Mycket bra"], ...}
    scale_labels = models.JSONField(default=dict, blank=True)
    required = models.BooleanField(default=False)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["survey", "order", "id"]
        constraints = [models.UniqueConstraint(fields=["survey", "code"], name="uniq_question_survey_code")]

    def __str__(self) -> str:
        return f"{self.survey.code}/{self.code}"

    def text_in(self, language: str) -> str:
        return self.text.get(language) or self.text.get("sv") or self.code

    def labels_in(self, language: str) -> list[str]:
        labels = self.scale_labels.get(language) or self.scale_labels.get("sv") or ["", ""]
        return list(labels)[:2] + [""] * (2 - len(labels))


class SurveyInvitation(models.Model):
    """At most one per ticket (the unique ticket), whatever asks for it and however often."""

    class Status(models.TextChoices):
        SCHEDULED = "scheduled", _("Planerad")
        QUEUED = "queued", _("Skickas")
        SENT = "sent", _("Skickad")
        SKIPPED = "skipped", _("Inte skickad")
        FAILED = "failed", _("Misslyckades")

    class Via(models.TextChoices):
        EMAIL = "email", _("E-post")
        CHAT = "chat", _("Chatt")

    ticket = models.OneToOneField("tickets.Ticket", on_delete=models.CASCADE, related_name="survey_invitation")
    survey = models.ForeignKey(Survey, on_delete=models.PROTECT, related_name="invitations")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.SCHEDULED)
    via = models.CharField(max_length=5, choices=Via.choices, blank=True)
    address = models.EmailField(blank=True, db_index=True)
    language = models.CharField(max_length=5, default="sv")
    skip_reason = models.CharField(max_length=40, blank=True)
    error = models.TextField(blank=True)
    message_id = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    send_after = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    responded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["status", "send_after"], name="surveyinv_status_after"),
            models.Index(fields=["address", "sent_at"], name="surveyinv_address_sent"),
        ]

    def __str__(self) -> str:
        return f"survey for ticket {self.ticket_id} ({self.status})"


class SurveyResponse(models.Model):
    invitation = models.OneToOneField(SurveyInvitation, on_delete=models.CASCADE, related_name="response")
    submitted_at = models.DateTimeField(default=timezone.now, db_index=True)
    language = models.CharField(max_length=5, default="sv")

    def __str__(self) -> str:
        return f"response to {self.invitation_id}"


class SurveyAnswer(models.Model):
    response = models.ForeignKey(SurveyResponse, on_delete=models.CASCADE, related_name="answers")
    question = models.ForeignKey(Question, on_delete=models.PROTECT, related_name="answers")
    value_int = models.SmallIntegerField(null=True, blank=True)
    value_bool = models.BooleanField(null=True, blank=True)
    value_text = models.TextField(blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["response", "question"], name="uniq_answer_response_question")]

    def __str__(self) -> str:
        return f"{self.question_id}: {self.value_int if self.value_int is not None else self.value_bool}"


class SurveyOptOut(models.Model):
    """Never ask again: by e-mail address (normalised) and, when known, the contact."""

    address = models.EmailField(blank=True)
    contact = models.ForeignKey("tickets.Contact", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["address"], condition=~Q(address=""), name="uniq_optout_address"),
        ]

    def __str__(self) -> str:
        return self.address or f"contact {self.contact_id}"
