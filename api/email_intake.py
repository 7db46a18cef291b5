"""Filled in by the email_intake channel adapter."""

urlpatterns: list = []
