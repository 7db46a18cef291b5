"""The public page of the city's service commitments and how well they were kept."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.views.decorators.cache import cache_page

from contactcentre.commitments.selectors import commitments_kept


@cache_page(300)
def commitments(request: HttpRequest) -> HttpResponse:
    return render(request, "frontend/commitments.html", {"records": commitments_kept(days=30)})


urlpatterns = [path("", commitments, name="commitments")]
