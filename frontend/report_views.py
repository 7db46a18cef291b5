"""The supervisor dashboard (/supervisor/indikatorer/): indicators, complaints and insight."""

from __future__ import annotations

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path

from contactcentre.experience.dashboard import dashboard
from contactcentre.tickets.errors import DomainError


class PeriodForm(forms.Form):
    date_from = forms.DateField(required=False, label="Från", widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(required=False, label="Till", widget=forms.DateInput(attrs={"type": "date"}))


@login_required
def indicators_dashboard(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not (user.is_active and (user.is_superuser or getattr(user, "role", "") in ("supervisor", "admin"))):
        raise PermissionDenied
    form = PeriodForm(request.GET or None)
    data = form.cleaned_data if form.is_valid() else {}
    error = ""
    try:
        context = dashboard(date_from=data.get("date_from"), date_to=data.get("date_to"))
    except DomainError as exc:
        error = exc.message
        context = dashboard(date_from=None, date_to=None)
    return render(request, "frontend/reports/dashboard.html", {"nav": "supervisor", "form": form, "error": error, **context})


urlpatterns = [path("", indicators_dashboard, name="indicators")]
