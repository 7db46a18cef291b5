"""Output shapes shared by several resources."""

from __future__ import annotations

from rest_framework import serializers

from contactcentre.tickets.models import Attachment, Contact, Department, Message, Ticket


class DepartmentOutput(serializers.ModelSerializer):
    class Meta:
        model = Department
        fields = ["code", "name", "description", "email", "phone", "opening_hours"]


class ContactBriefOutput(serializers.ModelSerializer):
    class Meta:
        model = Contact
        fields = ["id", "name", "kind"]


class TicketOutput(serializers.ModelSerializer):
    # allow_null: these are null on many tickets, and the schema must say so (schemathesis).
    department = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)
    department_name = serializers.CharField(source="department.name", read_only=True, default=None, allow_null=True)
    assignee = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    contact = ContactBriefOutput(read_only=True, allow_null=True)

    class Meta:
        model = Ticket
        fields = [
            "id", "reference", "channel", "status", "priority", "subject", "department", "department_name",
            "category", "language", "is_complaint", "contact", "assignee", "tags", "version",
            "created_at", "updated_at", "last_message_at", "first_response_at", "escalated_at", "resolved_at",
            "closed_at", "first_response_due_at", "resolution_due_at", "department_due_at",
            "first_contact_resolution",
        ]
        read_only_fields = fields


class TicketDetailOutput(TicketOutput):
    held_for = serializers.SlugRelatedField(slug_field="reference", read_only=True, allow_null=True)
    merged_into = serializers.SlugRelatedField(slug_field="reference", read_only=True, allow_null=True)

    class Meta(TicketOutput.Meta):
        fields = [*TicketOutput.Meta.fields, "routing", "held_for", "merged_into"]
        read_only_fields = fields


class AttachmentOutput(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()

    class Meta:
        model = Attachment
        fields = ["id", "filename", "content_type", "size", "url"]

    def get_url(self, obj: Attachment) -> str:
        return f"/api/v1/attachments/{obj.id}/"


class MessageOutput(serializers.ModelSerializer):
    author = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    attachments = AttachmentOutput(many=True, read_only=True)

    class Meta:
        model = Message
        fields = [
            "id", "registration", "direction", "channel", "author", "sender", "subject", "body_text", "body_html",
            "is_automatic", "delivery_status", "delivery_error", "attachments", "created_at",
        ]
        read_only_fields = fields
