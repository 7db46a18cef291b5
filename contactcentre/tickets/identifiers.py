"""Identifiers residents give us: phone numbers and Swedish organisation numbers."""

from __future__ import annotations

import re

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _


def normalise_phone(raw: str, *, region: str | None = None) -> str:
    """Return the number in E.164 (``+46701740601``) or raise ValidationError."""
    raw = (raw or "").strip()
    if not raw:
        raise ValidationError(_("Telefonnumret är tomt."), code="empty")
    try:
        parsed = phonenumbers.parse(raw, region or settings.PHONE_DEFAULT_REGION)
    except phonenumbers.NumberParseException as exc:
        raise ValidationError(_("Ogiltigt telefonnummer: %(raw)s"), code="invalid", params={"raw": raw}) from exc
    if not phonenumbers.is_possible_number(parsed):
        raise ValidationError(_("Ogiltigt telefonnummer: %(raw)s"), code="invalid", params={"raw": raw})
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def format_phone_national(e164: str) -> str:
    try:
        return phonenumbers.format_number(phonenumbers.parse(e164, None), phonenumbers.PhoneNumberFormat.NATIONAL)
    except phonenumbers.NumberParseException:
        return e164


_ORGNR = re.compile(r"^(?:16)?(\d{6})-?(\d{4})$")


def _luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(digits):
        d = int(ch) * (2 if i % 2 == 0 else 1)
        total += d - 9 if d > 9 else d
    return total % 10 == 0


def normalise_organisation_number(raw: str) -> str:
    """Validate a Swedish organisationsnummer and return it as ``NNNNNN-NNNN``.

    The third digit is >= 2 for legal entities (it tells them apart from personal identity
    numbers, which sole traders use: those are accepted too when the Luhn check holds).
    """
    m = _ORGNR.match((raw or "").strip().replace(" ", ""))
    if not m:
        raise ValidationError(_("Organisationsnumret ska ha formen NNNNNN-NNNN."), code="format")
    digits = m.group(1) + m.group(2)
    if not _luhn_ok(digits):
        raise ValidationError(_("Organisationsnumret har fel kontrollsiffra."), code="checksum")
    return f"{digits[:6]}-{digits[6:]}"
