from django.db import models


class Item(models.Model):
    """One row per request, about the size of a web enquiry."""

    name = models.CharField(max_length=200, blank=True)
    email = models.EmailField(blank=True)
    subject = models.CharField(max_length=300, blank=True)
    message = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        app_label = "ceiling"

    def __str__(self) -> str:
        return f"item {self.pk}"
