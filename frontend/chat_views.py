"""The chat widget's demo page: a municipal web page with the one-line embed."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path

LANGUAGES = ("sv", "en", "fi")


def widget_demo(request: HttpRequest) -> HttpResponse:
    lang = request.GET.get("lang", "sv")
    lang = lang if lang in LANGUAGES else "sv"
    return render(request, "frontend/widget_demo.html", {"lang": lang, "languages": LANGUAGES})


urlpatterns = [
    path("demo/", widget_demo, name="chat-demo"),
]
