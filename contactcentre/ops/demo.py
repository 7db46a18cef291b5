"""Demo data for `make run`: the demo knowledge base, staff to sign in as, and a few enquiries."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.management import call_command

from contactcentre.accounts.services import staff_create_or_update
from contactcentre.intake.base import InboundMessage
from contactcentre.intake.services import intake_receive
from contactcentre.tickets.models import Ticket

DEMO_DIR = Path(settings.BASE_DIR) / "knowledge" / "demo"
# Local demo only: load_demo refuses to run in production.
DEMO_PASSWORD = "demo-kontakt-2026"  # noqa: S105 - a published demo login, refused in production

DEMO_STAFF = [
    ("anna", "agent", "", "Anna", ["sv", "en"]),
    ("bertil", "agent", "", "Bertil", ["sv", "fi"]),
    ("sara", "supervisor", "", "Sara", ["sv"]),
    ("bygg", "caseworker", "bygglov", "Cecilia", ["sv"]),
    ("miljo", "caseworker", "miljotillsyn", "Mikael", ["sv"]),
    ("admin", "admin", "", "Admin", ["sv", "en"]),
]

DEMO_ENQUIRIES = [
    InboundMessage(channel="web", sender_name="Karin Lund", sender_email="karin.lund@example.org",
                   subject="Staket mot gatan",
                   body_text="Hej! Behöver jag bygglov för att sätta upp ett staket mot gatan, ca 1 meter högt?",
                   language="sv", external_id="demo:web:1"),
    InboundMessage(channel="email", sender_name="Olle Berg", sender_email="olle.berg@example.org",
                   subject="Ärende dnr BYGG 2026-0412",
                   body_text="Hej,\nJag skickade in min ansökan om tillbyggnad för sex veckor sedan (dnr BYGG 2026-0412). "
                             "När kan jag räkna med ett beslut?\n\nMvh Olle",
                   language="sv", external_id="<demo-2@example.org>"),
    InboundMessage(channel="email", sender_name="Restaurang Solrosen AB", sender_email="info@solrosen.example.com",
                   organisation_number="556036-0793", subject="Tillfälligt serveringstillstånd",
                   body_text="Vi vill servera öl och vin på en sommarfest för personalen i augusti. Vilket tillstånd behöver vi?",
                   language="sv", external_id="<demo-3@example.com>"),
    InboundMessage(channel="phone", sender_phone="070-174 06 11", sender_name="Aino Virtanen",
                   subject="Sophämtning",
                   body_text="Ringde om att soptunnan inte tömts på Råsundavägen 12 två veckor i rad. Vill att det åtgärdas.",
                   language="sv", external_id="demo:call:4"),
    InboundMessage(channel="web", sender_name="Mikko Laine", sender_email="mikko.laine@example.org",
                   subject="Varhaiskasvatus suomeksi",
                   body_text="Hei! Onko Solnassa suomenkielistä varhaiskasvatusta? Miten haen paikkaa lapselleni?",
                   language="fi", external_id="demo:web:5"),
    InboundMessage(channel="web", sender_name="Jonas Ek", sender_email="jonas.ek@example.org",
                   subject="Missnöjd med handläggningen",
                   body_text="Det är tredje gången jag ringer om mitt bygglov och ingen återkommer. Detta är inte acceptabelt.",
                   language="sv", external_id="demo:web:6"),
    # Everyday questions the knowledge base answers at first contact (the resident gets the
    # answer at once and the ticket is resolved; agents see them under "resolved").
    InboundMessage(channel="web", sender_name="Lina Holm", sender_email="lina.holm@example.org",
                   subject="Avgift förskola",
                   body_text="Hej! Hur mycket kostar förskolan per månad för två barn?",
                   language="sv", external_id="demo:web:7"),
    InboundMessage(channel="email", sender_name="Per Sundin", sender_email="per.sundin@example.org",
                   subject="Parkeringsbot",
                   body_text="Hej, jag har fått en parkeringsbot som jag tycker är fel. Hur bestrider jag den?",
                   language="sv", external_id="<demo-8@example.org>"),
    InboundMessage(channel="email", sender_name="Sam Taylor", sender_email="sam.taylor@example.org",
                   subject="Waste sorting",
                   body_text="Hi, how do I sort my household waste? Which bins go where?",
                   language="en", external_id="<demo-9@example.org>"),
    InboundMessage(channel="web", sender_name="Eva Strand", sender_email="eva.strand@example.org",
                   subject="Braskamin",
                   body_text="Jag vill installera en braskamin i min villa. Måste jag anmäla det till kommunen?",
                   language="sv", external_id="demo:web:10"),
]


def demo_load(*, stdout=None) -> dict[str, int]:  # type: ignore[no-untyped-def]
    if settings.PRODUCTION:
        raise RuntimeError("Demo data is for local use; refusing to load it in production.")
    call_command("import_knowledge", str(DEMO_DIR), stdout=stdout)
    # Open311 services point at departments, which exist only after the import.
    call_command("open311_sync_services", stdout=stdout)
    for username, role, dept, first_name, languages in DEMO_STAFF:
        staff_create_or_update(username=username, role=role, department_code=dept, password=DEMO_PASSWORD,
                               email=f"{username}@solna.example.org", first_name=first_name,
                               languages=languages, check_password=False)
    created = 0
    for enquiry in DEMO_ENQUIRIES:
        result = intake_receive(enquiry)
        created += int(result.created)
    return {"staff": len(DEMO_STAFF), "tickets": Ticket.objects.count(), "created": created}
