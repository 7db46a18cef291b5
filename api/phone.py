"""Phone (CTI) webhooks: our signed JSON events and Twilio's voice status callbacks.

Both endpoints authenticate the *platform*, not a user: a request whose signature does not verify
is refused with 401 before anything is parsed or stored. A replay of an event already processed
(same call id and event type) is refused with 409 and stores nothing: the first delivery's effects
stand, and a platform that retries after a timeout learns the event was already taken.
"""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.urls import path
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    PolymorphicProxySerializer,
    extend_schema,
)
from rest_framework import serializers
from rest_framework.authentication import BaseAuthentication
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.parsers import FormParser, JSONParser
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from contactcentre.intake.phone.adapters import cti_event_from, twilio_event_from
from contactcentre.intake.phone.services import (
    ANSWERED,
    ENDED,
    MISSED,
    RINGING,
    VOICEMAIL,
    CallEventResult,
    call_event_receive,
)
from contactcentre.intake.phone.signatures import (
    SignatureError,
    cti_signature_verify,
    twilio_signature_verify,
)

# --- authentication --------------------------------------------------------------------------


class CTISignatureAuthentication(BaseAuthentication):
    """``X-CC-Timestamp`` (unix seconds) and ``X-CC-Signature: sha256=<hex HMAC-SHA256 of
    timestamp + "." + raw body>`` with the shared secret; 5-minute replay window."""

    def authenticate(self, request: Request) -> tuple[Any, str]:
        try:
            cti_signature_verify(
                secrets=[settings.CTI_WEBHOOK_SECRET, settings.CTI_WEBHOOK_PREVIOUS_SECRET],
                timestamp=request.headers.get("X-CC-Timestamp", ""),
                signature=request.headers.get("X-CC-Signature", ""),
                body=request.body,
                now=time.time(),
                tolerance_s=settings.CTI_SIGNATURE_TOLERANCE_S,
            )
        except SignatureError as exc:
            raise AuthenticationFailed(f"Invalid webhook signature: {exc}.") from exc
        return AnonymousUser(), "cti"

    def authenticate_header(self, request: Request) -> str:
        # Present so DRF answers 401 (not 403) to an unsigned request.
        return 'HMAC-SHA256 realm="cti"'


class TwilioSignatureAuthentication(BaseAuthentication):
    """``X-Twilio-Signature`` over the called URL and the form fields (Twilio's own validator)."""

    def authenticate(self, request: Request) -> tuple[Any, str]:
        base = settings.TWILIO_WEBHOOK_BASE_URL
        url = base + request.get_full_path() if base else request.build_absolute_uri()
        try:
            twilio_signature_verify(
                auth_token=settings.TWILIO_AUTH_TOKEN,
                url=url,
                params=request.POST,
                signature=request.headers.get("X-Twilio-Signature", ""),
                settings_header=request.headers.get("X-Twilio-Webhooks-Signature-Settings", ""),
            )
        except SignatureError as exc:
            raise AuthenticationFailed(f"Invalid Twilio signature: {exc}.") from exc
        return AnonymousUser(), "twilio"

    def authenticate_header(self, request: Request) -> str:
        return 'TwilioSignature realm="twilio"'


class IsSignedWebhook(BasePermission):
    def has_permission(self, request: Request, view: Any) -> bool:
        return request.auth == getattr(view, "webhook_auth", None)


class CTISignatureScheme(OpenApiAuthenticationExtension):
    target_class = CTISignatureAuthentication
    name = "ctiSignature"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "X-CC-Signature",
            "description": 'sha256=<hex HMAC-SHA256(secret, X-CC-Timestamp + "." + body)>; '
                           "X-CC-Timestamp is unix seconds and must be within 5 minutes.",
        }


class TwilioSignatureScheme(OpenApiAuthenticationExtension):
    target_class = TwilioSignatureAuthentication
    name = "twilioSignature"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {"type": "apiKey", "in": "header", "name": "X-Twilio-Signature",
                "description": "Twilio's request signature (auth token), verified with Twilio's RequestValidator."}


# --- CTI event payloads (one serializer per event type) ----------------------------------------


class _CallEventInput(serializers.Serializer):
    # A plain string: the view dispatches on it, and the schema's discriminator documents the values.
    event = serializers.CharField(help_text="The event type; selects the payload shape.")
    call_id = serializers.CharField(max_length=120, help_text="The platform's id of the call (stable across its events).")
    occurred_at = serializers.DateTimeField(required=False, help_text="When it happened (ISO 8601); default: on receipt.")
    caller = serializers.CharField(max_length=64, required=False, allow_blank=True, default="",
                                   help_text="The caller's number as the platform sees it; empty or 'anonymous' if withheld.")
    called = serializers.CharField(max_length=64, required=False, allow_blank=True, default="",
                                   help_text="The number the caller dialled.")


class CallRingingInput(_CallEventInput):
    agent = serializers.CharField(max_length=150, required=False, allow_blank=True, default="",
                                  help_text="Username of the agent the call is offered to; empty pops it to all agents.")


class CallAnsweredInput(_CallEventInput):
    agent = serializers.CharField(max_length=150, help_text="Username of the answering agent.")


class CallEndedInput(_CallEventInput):
    agent = serializers.CharField(max_length=150, required=False, allow_blank=True, default="",
                                  help_text="Username of the agent; default: the one who answered.")
    summary = serializers.CharField(max_length=20_000, required=False, allow_blank=True, default="",
                                    help_text="The agent's summary; becomes a message on the ticket.")
    subject = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")
    outcome = serializers.CharField(max_length=100, required=False, allow_blank=True, default="",
                                    help_text="The agent's outcome code, e.g. 'informed', 'follow_up'.")
    resolved_during_call = serializers.BooleanField(required=False, default=False,
                                                    help_text="Resolved while on the call: the ticket is resolved and, "
                                                              "if this call opened it, counted as first-contact resolution.")
    ticket_reference = serializers.CharField(max_length=32, required=False, allow_blank=True, default="",
                                             help_text="An existing ticket the call was about (e.g. SOL-2026-000123); "
                                                       "default: a new ticket.")
    duration_seconds = serializers.IntegerField(min_value=0, required=False, allow_null=True, default=None)


class CallMissedInput(_CallEventInput):
    pass


class VoicemailInput(_CallEventInput):
    recording_url = serializers.URLField(max_length=500, required=False, allow_blank=True, default="")
    transcript = serializers.CharField(max_length=20_000, required=False, allow_blank=True, default="")
    duration_seconds = serializers.IntegerField(min_value=0, required=False, allow_null=True, default=None)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not attrs.get("recording_url") and not attrs.get("transcript", "").strip():
            raise serializers.ValidationError("A voicemail needs recording_url or transcript.")
        return attrs


EVENT_INPUTS: dict[str, type[_CallEventInput]] = {
    RINGING: CallRingingInput,
    ANSWERED: CallAnsweredInput,
    ENDED: CallEndedInput,
    MISSED: CallMissedInput,
    VOICEMAIL: VoicemailInput,
}

CTIEventInput = PolymorphicProxySerializer(
    component_name="CTIEvent",
    serializers=EVENT_INPUTS,  # type: ignore[arg-type]
    resource_type_field_name="event",
)


class CallEventOutput(serializers.Serializer):
    call_id = serializers.CharField()
    state = serializers.CharField()
    ticket = serializers.CharField(allow_null=True, help_text="Reference of the ticket the event created or joined.")
    ticket_created = serializers.BooleanField()
    ignored = serializers.BooleanField(default=False)


class TwilioCallbackInput(serializers.Serializer):
    """The fields of Twilio's voice status, recording and transcription callbacks we use."""

    CallSid = serializers.CharField()  # noqa: N815 - Twilio's field names
    CallStatus = serializers.CharField(required=False)  # noqa: N815
    Direction = serializers.CharField(required=False)  # noqa: N815
    From = serializers.CharField(required=False)  # noqa: N815
    To = serializers.CharField(required=False)  # noqa: N815
    CallDuration = serializers.CharField(required=False)  # noqa: N815
    RecordingUrl = serializers.URLField(required=False)  # noqa: N815
    TranscriptionText = serializers.CharField(required=False)  # noqa: N815


def _output(result: CallEventResult | None, call_id: str = "") -> dict[str, Any]:
    if result is None:
        return {"call_id": call_id, "state": "", "ticket": None, "ticket_created": False, "ignored": True}
    return {
        "call_id": result.call.call_id,
        "state": result.call.state,
        "ticket": result.ticket.reference if result.ticket else None,
        "ticket_created": result.ticket_created,
        "ignored": False,
    }


_ERRORS = {
    400: OpenApiResponse(description="Invalid payload; nothing stored."),
    401: OpenApiResponse(description="Missing, bad or expired signature; nothing stored."),
    409: OpenApiResponse(description="This (call_id, event) was already processed; nothing stored."),
}


class CTIWebhookView(APIView):
    """Call events from the telephony platform.

    ``call.ringing`` pops the caller's contact and open tickets to the offered agent (or all agents);
    ``call.answered`` records the agent; ``call.ended`` turns the summary into a message on a new or
    the given ticket (``resolved_during_call`` resolves it); ``call.missed`` and ``voicemail`` open a
    callback ticket with its own due time.
    """

    authentication_classes = [CTISignatureAuthentication]
    permission_classes = [IsSignedWebhook]
    # The platform is authenticated by signature and sends bursts at peak hours: no anon throttle.
    throttle_classes: list = []
    parser_classes = [JSONParser]
    webhook_auth = "cti"

    @extend_schema(
        request=CTIEventInput,
        responses={200: CallEventOutput, **_ERRORS},
        parameters=[OpenApiParameter("X-CC-Timestamp", str, OpenApiParameter.HEADER, required=True,
                                     description="Unix seconds; signed together with the body.")],
    )
    def post(self, request: Request) -> Response:
        raw = request.data
        if not isinstance(raw, dict):
            raise serializers.ValidationError({"detail": ["A JSON object is expected."]})
        input_class = EVENT_INPUTS.get(raw.get("event"))  # type: ignore[arg-type]
        if input_class is None:
            raise serializers.ValidationError({"event": [f"One of: {', '.join(EVENT_INPUTS)}."]})
        ser = input_class(data=raw)
        ser.is_valid(raise_exception=True)
        result = call_event_receive(data=cti_event_from(ser.validated_data, raw=raw))
        return Response(_output(result))


class TwilioWebhookView(APIView):
    """Twilio voice status callbacks (and recording/transcription callbacks for voicemail).

    Point the number's status callback (events: initiated, ringing, answered, completed) here;
    an optional ``?agent=<username>`` in the URL names the agent the call is routed to.
    ``ringing`` -> call.ringing, ``in-progress`` -> call.answered, ``completed`` -> call.ended,
    ``busy``/``no-answer``/``failed``/``canceled`` -> call.missed, a recording or transcription ->
    voicemail. Outbound legs are ignored.
    """

    authentication_classes = [TwilioSignatureAuthentication]
    permission_classes = [IsSignedWebhook]
    throttle_classes: list = []
    parser_classes = [FormParser]
    webhook_auth = "twilio"

    @extend_schema(
        request={"application/x-www-form-urlencoded": TwilioCallbackInput},
        responses={200: CallEventOutput, **_ERRORS},
        parameters=[OpenApiParameter("agent", str, OpenApiParameter.QUERY, required=False)],
    )
    def post(self, request: Request) -> Response:
        data = twilio_event_from(request.POST, agent_username=request.query_params.get("agent", ""))
        if data is None:
            return Response(_output(None, call_id=request.POST.get("CallSid", "")))
        return Response(_output(call_event_receive(data=data)))


urlpatterns = [
    path("intake/phone/", CTIWebhookView.as_view(), name="intake-phone"),
    path("intake/phone/twilio/", TwilioWebhookView.as_view(), name="intake-phone-twilio"),
]
