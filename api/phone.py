"""Filled in by the phone channel adapter."""

urlpatterns: list = []
