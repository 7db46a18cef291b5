"""The public survey pages (/enkat/): answer through a signed link, opt out with one click.

GET never writes: mail scanners and link previews fetch links before people do. A rating
carried by the link (``?a=4``) is only preselected; it is recorded by the POST that confirms it.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import translation
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from contactcentre.experience import services
from contactcentre.experience.models import Question
from contactcentre.experience.texts import LANGUAGES, texts_for
from contactcentre.tickets.errors import DomainError


def _render(request: HttpRequest, template: str, language: str, context: dict, status: int = 200) -> HttpResponse:
    with translation.override(language):
        response = render(request, template, {"t": texts_for(language), "language": language, **context}, status=status)
    # The token is a capability: it must not leak to other sites through the Referer header.
    response["Referrer-Policy"] = "same-origin"  # not "no-referrer": browsers would then send "Origin: null" and CSRF would refuse the form
    response["X-Robots-Tag"] = "noindex"
    return response


def _language(request: HttpRequest, fallback: str) -> str:
    wanted = request.GET.get("lang") or request.POST.get("lang") or fallback
    return wanted if wanted in LANGUAGES else "sv"


def _invalid(request: HttpRequest, language: str) -> HttpResponse:
    t = texts_for(language)
    return _render(request, "frontend/survey/message.html", language, {
        "title": t["invalid_title"], "text": t["invalid"].format(days=settings.SURVEY_LINK_MAX_AGE_DAYS)}, status=404)


@never_cache
@require_http_methods(["GET", "POST"])
def survey(request: HttpRequest, token: str) -> HttpResponse:
    invitation = services.invitation_from_token(token)
    if invitation is None:
        return _invalid(request, _language(request, "sv"))
    language = _language(request, invitation.language)
    t = texts_for(language)
    if invitation.responded_at is not None:
        return _render(request, "frontend/survey/message.html", language,
                       {"title": t["thanks_title"], "text": t["thanks"] if "tack" in request.GET else t["answered"]})
    questions = services.survey_questions(invitation)
    values: dict[str, str] = {}
    error = ""
    status = 200
    if request.method == "POST":
        values = {q.code: request.POST.get(q.code, "") for q in questions}
        try:
            services.survey_respond(invitation_id=invitation.pk, answers=values, language=language)
        except DomainError as exc:
            error, status = (t["required"] if exc.code == "answer_required" else exc.message), 400
        else:
            return redirect(f"{request.path}?tack=1&lang={language}")
    else:
        first = next((q for q in questions if q.kind == Question.Kind.SCALE), None)
        preset = request.GET.get("a", "")
        if first is not None and preset.isdigit() and first.scale_min <= int(preset) <= first.scale_max:
            values[first.code] = preset
    items = [{
        "q": q, "text": q.text_in(language), "labels": q.labels_in(language), "value": values.get(q.code, ""),
        "scale": [str(n) for n in range(q.scale_min, q.scale_max + 1)],
    } for q in questions]
    return _render(request, "frontend/survey/form.html", language, {
        "items": items, "preset": bool(values) and request.method == "GET", "error": error,
        "reference": invitation.ticket.reference, "optout": services.optout_url(invitation),
        "languages": LANGUAGES,
    }, status=status)


@never_cache
@csrf_exempt  # RFC 8058 one-click unsubscribe: mail clients POST without a session; the token authorises
@require_http_methods(["GET", "POST"])
def optout(request: HttpRequest, token: str) -> HttpResponse:
    invitation = services.invitation_from_optout_token(token)
    if invitation is None:
        return _invalid(request, _language(request, "sv"))
    language = _language(request, invitation.language)
    t = texts_for(language)
    if request.method == "POST":
        services.survey_opt_out(invitation_id=invitation.pk)
        return _render(request, "frontend/survey/message.html", language,
                       {"title": t["optout_title"], "text": t["optout_done"]})
    return _render(request, "frontend/survey/optout.html", language,
                   {"lead": t["optout_lead"].format(address=invitation.address or "—")})


urlpatterns = [
    path("<str:token>/", survey, name="survey"),
    path("<str:token>/avregistrera/", optout, name="survey-optout"),
]
