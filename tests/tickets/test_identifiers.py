import pytest
from django.core.exceptions import ValidationError

from contactcentre.tickets.identifiers import normalise_organisation_number, normalise_phone


@pytest.mark.parametrize(
    ("raw", "e164"),
    [
        ("08-465 004 10", "+46846500410"),
        ("070-174 06 01", "+46701740601"),
        ("+46 70 174 06 01", "+46701740601"),
        ("0046701740601", "+46701740601"),
        ("+358 40 1234567", "+358401234567"),
    ],
)
def test_phone_numbers_are_normalised_to_e164(raw, e164):
    assert normalise_phone(raw) == e164


@pytest.mark.parametrize("raw", ["", "abc", "12", "+46 1"])
def test_bad_phone_numbers_are_refused(raw):
    with pytest.raises(ValidationError):
        normalise_phone(raw)


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [("556036-0793", "556036-0793"), ("5560360793", "556036-0793"), ("16556036-0793", "556036-0793"),
     ("212000-0142", "212000-0142")],
)
def test_valid_organisation_numbers(raw, normalised):
    assert normalise_organisation_number(raw) == normalised


@pytest.mark.parametrize("raw", ["556036-0794", "55603-0793", "abcdef-ghij", ""])
def test_invalid_organisation_numbers(raw):
    with pytest.raises(ValidationError):
        normalise_organisation_number(raw)
