from __future__ import annotations

import pytest

from routing.engine import case_reference, complaint_score, organisation_number
from routing.text import clean_message, detect_language, fold, stem


def test_fold_removes_swedish_diacritics() -> None:
    assert fold("Återvinningscentralen ÖPPET på Ängsvägen") == "atervinningscentralen oppet pa angsvagen"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Hej, hur gör jag för att söka bygglov för en altan?", "sv"),
        ("hur soker man boendeparkering? har formansbil", "sv"),
        ("Where can I take an old sofa? Is it free for residents?", "en"),
        ("Hei, voinko hoitaa asioita kaupungin kanssa suomeksi?", "fi"),
        ("Naapurin ilmalämpöpumppu pitää kovaa ääntä öisin", "fi"),
    ],
)
def test_detect_language(text: str, expected: str) -> None:
    assert detect_language(text) == expected


def test_stemming_meets_inflections_and_missing_diacritics() -> None:
    assert stem("parkeringen", "sv") == stem("parkering", "sv")
    assert stem("hämtningen", "sv") == fold(stem("hämtning", "sv"))
    assert stem("permits", "en") == stem("permit", "en")


def test_clean_message_strips_subject_quote_and_signature() -> None:
    text = (
        "Ämne: SV: Ärende BYGG 2024-001482\n\nHej,\nNär kommer beslutet?\n\nMvh\nHenrik\n"
        "070-174 06 12\n\n-----Ursprungligt meddelande-----\nFrån: Bygglov\nDin ansökan är komplett."
    )
    clean = clean_message(text)
    assert clean.subject == "Ärende BYGG 2024-001482"
    assert clean.is_reply
    assert "När kommer beslutet?" in clean.body
    assert "komplett" not in clean.body and "Henrik" not in clean.body
    assert "Henrik" in clean.signature


def test_quoted_lines_are_dropped() -> None:
    clean = clean_message("Har ni mätt ljudet än?\n\nHälsningar\nG\n\n> Från: Miljö\n> Vi återkommer.")
    assert "återkommer" not in clean.body and clean.is_reply


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Exempel AB, 556000-0001", "556000-0001"),
        ("org.nr 5560000001", "556000-0001"),
        ("personnummer 850709-9805", None),  # third digit < 2: a person, not an organisation
        ("559220-7737", None),  # Luhn check digit wrong
    ],
)
def test_organisation_number_luhn(text: str, expected: str | None) -> None:
    assert organisation_number(text) == expected


@pytest.mark.parametrize(
    ("text", "reference", "department"),
    [
        ("Gäller dnr BYGG 2024-123", "dnr BYGG 2024-123", "bygglov"),
        ("Ert ärende MHN 2024-1187 – buller", "ärende MHN 2024-1187", "miljotillsyn"),
        ("Ärende ALK 2025-0112", "Ärende ALK 2025-0112", "serveringstillstand"),
        ("Vi ses 2024-05-01 kl 10", None, None),
    ],
)
def test_case_reference(text: str, reference: str | None, department: str | None) -> None:
    assert case_reference(text) == (reference, department)


def test_complaint_about_own_service_but_not_about_neighbour() -> None:
    own, _ = complaint_score(fold("Jag vill framföra klagomål på hur handläggningen skötts. Ingen svarar, helt oprofessionellt."))
    neighbour, _ = complaint_score(fold("Jag vill klaga på grannens hund som skäller hela dagarna."))
    assert own >= 3.0
    assert neighbour < 3.0
