"""Filled in by the open311 channel adapter."""

urlpatterns: list = []
