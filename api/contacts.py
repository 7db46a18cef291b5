from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.generics import ListAPIView
from rest_framework.pagination import CursorPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from contactcentre.records.access import access_log_request
from contactcentre.tickets import selectors
from contactcentre.tickets.identifiers import format_phone_national
from contactcentre.tickets.models import Contact

from .serializers import TicketOutput


class ContactOutput(serializers.ModelSerializer):
    emails = serializers.SlugRelatedField(slug_field="address", many=True, read_only=True)
    phones = serializers.SlugRelatedField(slug_field="number", many=True, read_only=True)
    phones_national = serializers.SerializerMethodField()

    class Meta:
        model = Contact
        fields = ["id", "kind", "name", "organisation_number", "preferred_language", "emails", "phones",
                  "phones_national", "created_at"]

    def get_phones_national(self, obj: Contact) -> list[str]:
        return [format_phone_national(p.number) for p in obj.phones.all()]


class ContactDetailOutput(ContactOutput):
    tickets = TicketOutput(many=True, read_only=True)

    class Meta(ContactOutput.Meta):
        fields = [*ContactOutput.Meta.fields, "tickets"]


class ContactPagination(CursorPagination):
    page_size = 50
    ordering = "-id"


class ContactListView(ListAPIView):
    serializer_class = ContactOutput
    pagination_class = ContactPagination

    @extend_schema(parameters=[OpenApiParameter("q", str, description="name, e-mail, phone or organisation number")])
    def get(self, request: Request, *args, **kwargs) -> Response:  # type: ignore[no-untyped-def]
        return super().get(request, *args, **kwargs)

    def get_queryset(self):  # type: ignore[no-untyped-def]
        return selectors.contact_list(user=self.request.user, q=self.request.query_params.get("q", "")[:200])


class ContactDetailView(APIView):
    @extend_schema(responses=ContactDetailOutput)
    def get(self, request: Request, contact_id: int) -> Response:
        contact = selectors.contact_get(user=request.user, contact_id=contact_id)
        access_log_request(request, action="contact.detail", contact_id=contact.pk)
        return Response(ContactDetailOutput(contact).data)
