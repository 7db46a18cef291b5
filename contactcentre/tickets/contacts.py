"""Finding and creating contacts: one person, many addresses and numbers."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from .identifiers import normalise_organisation_number, normalise_phone
from .models import Contact, ContactEmail, ContactPhone


def contact_find(*, email: str = "", phone_e164: str = "") -> Contact | None:
    if email:
        found = ContactEmail.objects.select_related("contact").filter(address=email.strip().lower()).first()
        if found:
            return found.contact
    if phone_e164:
        found_phone = ContactPhone.objects.select_related("contact").filter(number=phone_e164).first()
        if found_phone:
            return found_phone.contact
    return None


def contact_find_or_create(
    *,
    name: str = "",
    email: str = "",
    phone: str = "",
    organisation_number: str = "",
    language: str = "",
    business: bool = False,
) -> Contact | None:
    """Match by e-mail, then by phone; otherwise create. Fills in what the contact lacked.

    Returns None when the sender left nothing to recognise them by (an anonymous chat, a
    withheld number): such tickets have no contact rather than a shared placeholder.
    """
    email = (email or "").strip().lower()
    phone_e164 = ""
    if phone:
        try:
            phone_e164 = normalise_phone(phone)
        except ValidationError:
            phone_e164 = ""
    orgnr = ""
    if organisation_number:
        try:
            orgnr = normalise_organisation_number(organisation_number)
        except ValidationError:
            orgnr = ""
    name = (name or "").strip()[:200]
    if not (email or phone_e164 or orgnr or name):
        return None

    contact = contact_find(email=email, phone_e164=phone_e164)
    if contact is None and not (email or phone_e164):
        # Nothing unique to match on: a named but otherwise anonymous sender gets their own record.
        return Contact.objects.create(
            name=name, organisation_number=orgnr, preferred_language=language or "",
            kind=Contact.Kind.BUSINESS if (business or orgnr) else Contact.Kind.RESIDENT,
        )
    if contact is None:
        try:
            with transaction.atomic():
                contact = Contact.objects.create(
                    name=name,
                    organisation_number=orgnr,
                    preferred_language=language or "",
                    kind=Contact.Kind.BUSINESS if (business or orgnr) else Contact.Kind.RESIDENT,
                )
                if email:
                    ContactEmail.objects.create(contact=contact, address=email)
                if phone_e164:
                    ContactPhone.objects.create(contact=contact, number=phone_e164)
            return contact
        except IntegrityError:
            # A concurrent intake created the same address first: use theirs.
            contact = contact_find(email=email, phone_e164=phone_e164)
            if contact is None:
                raise
    _contact_complete(contact, name=name, email=email, phone_e164=phone_e164, orgnr=orgnr, language=language, business=business)
    return contact


def _contact_complete(
    contact: Contact, *, name: str, email: str, phone_e164: str, orgnr: str, language: str, business: bool
) -> None:
    fields: list[str] = []
    if name and not contact.name:
        contact.name = name
        fields.append("name")
    if orgnr and not contact.organisation_number:
        contact.organisation_number = orgnr
        fields.append("organisation_number")
    if (business or orgnr) and contact.kind != Contact.Kind.BUSINESS:
        contact.kind = Contact.Kind.BUSINESS
        fields.append("kind")
    if language and not contact.preferred_language:
        contact.preferred_language = language
        fields.append("preferred_language")
    if fields:
        contact.save(update_fields=[*fields, "updated_at"])
    # An address or number that belongs to nobody yet joins this contact; one that belongs to
    # someone else stays theirs (we never move identifiers between people silently).
    if email and not ContactEmail.objects.filter(address=email).exists():
        try:
            with transaction.atomic():
                ContactEmail.objects.create(contact=contact, address=email)
        except IntegrityError:
            pass
    if phone_e164 and not ContactPhone.objects.filter(number=phone_e164).exists():
        try:
            with transaction.atomic():
                ContactPhone.objects.create(contact=contact, number=phone_e164)
        except IntegrityError:
            pass
