from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Article(models.Model):
    class Language(models.TextChoices):
        SV = "sv", _("svenska")
        EN = "en", _("engelska")
        FI = "fi", _("finska")

    class Status(models.TextChoices):
        DRAFT = "draft", _("Utkast")
        PUBLISHED = "published", _("Publicerad")

    slug = models.SlugField(max_length=120, unique=True)
    title = models.CharField(max_length=300)
    body = models.TextField(help_text=_("Markdown"))
    language = models.CharField(max_length=2, choices=Language.choices, default=Language.SV)
    department = models.ForeignKey("tickets.Department", on_delete=models.PROTECT, related_name="articles")
    tags = models.JSONField(default=list, blank=True)
    example_questions = models.JSONField(default=list, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT, db_index=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    review_by = models.DateField(null=True, blank=True)
    # Translations of one article share a group; each language version is its own article.
    translation_group = models.UUIDField(default=uuid.uuid4, db_index=True)
    version = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["title"]

    def __str__(self) -> str:
        return self.title


class ArticleVersion(models.Model):
    """An immutable snapshot written by ``article_save`` on every change."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="versions")
    version = models.PositiveIntegerField()
    title = models.CharField(max_length=300)
    body = models.TextField()
    language = models.CharField(max_length=2)
    department_code = models.CharField(max_length=40)
    tags = models.JSONField(default=list)
    example_questions = models.JSONField(default=list)
    status = models.CharField(max_length=10)
    saved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    saved_at = models.DateTimeField(default=timezone.now)
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["article", "-version"]
        constraints = [models.UniqueConstraint(fields=["article", "version"], name="article_version_unique")]

    def __str__(self) -> str:
        return f"{self.title} v{self.version}"


class ArticleUsage(models.Model):
    class Event(models.TextChoices):
        SHOWN = "shown", _("Visad")
        SUGGESTED = "suggested", _("Föreslagen")
        USED_IN_REPLY = "used_in_reply", _("Använd i svar")
        AUTO_ANSWERED = "auto_answered", _("Automatiskt svar")
        HELPFUL_YES = "helpful_yes", _("Hjälpte")
        HELPFUL_NO = "helpful_no", _("Hjälpte inte")

    article = models.OneToOneField(Article, on_delete=models.CASCADE, related_name="usage")
    shown = models.PositiveIntegerField(default=0)
    suggested = models.PositiveIntegerField(default=0)
    used_in_reply = models.PositiveIntegerField(default=0)
    auto_answered = models.PositiveIntegerField(default=0)
    helpful_yes = models.PositiveIntegerField(default=0)
    helpful_no = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"usage of {self.article_id}"
