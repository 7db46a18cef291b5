"""Filled in by the chat channel adapter."""

urlpatterns: list = []
