"""Open311 GeoReport v2: a client files a request and follows its status, in JSON and XML."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from io import StringIO
from urllib.parse import urlencode

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from contactcentre.intake.open311.catalogue import CATALOGUE, catalogue_sync
from contactcentre.intake.open311.models import ServiceDefinition, ServiceRequest
from contactcentre.tickets.models import Department, Ticket
from tests.factories import DepartmentFactory

pytestmark = pytest.mark.django_db
BASE = "/api/open311/v2/"
STREETLIGHT = {
    "service_code": "streetlight",
    "description": "Lampan vid busshållplatsen är släckt sedan i måndags.",
    "lat": "59.360123456",
    "long": "18.000987",
    "address_string": "Solnavägen 1, Solna",
    "email": "resident@example.org",
    "first_name": "Aino",
    "last_name": "Virtanen",
    "phone": "070-174 06 11",
}


@pytest.fixture
def city(db) -> None:
    for code, name in [("gata-park", "Gata och park"), ("avfall", "Avfall och återvinning"), ("miljotillsyn", "Miljötillsyn")]:
        DepartmentFactory(code=code, name=name)
    catalogue_sync(service_model=ServiceDefinition, department_model=Department)


@pytest.fixture
def client() -> APIClient:
    return APIClient()


def file(client: APIClient, fmt: str = "json", **overrides: str):  # type: ignore[no-untyped-def]
    """POST form-encoded, as the spec requires (an empty override drops the field)."""
    return client.generic("POST", f"{BASE}requests.{fmt}", data=_form(STREETLIGHT | overrides),
                          content_type="application/x-www-form-urlencoded")


def _form(data: dict[str, str]) -> str:
    return urlencode({k: v for k, v in data.items() if v != ""})


def test_services_are_listed_in_json_and_xml(client, city):
    r = client.get(f"{BASE}services.json")
    assert r.status_code == 200 and r["Content-Type"].startswith("application/json")
    services = {s["service_code"]: s for s in r.json()}
    assert set(services) == {e.code for e in CATALOGUE}
    light = services["streetlight"]
    assert light["service_name"] == "Gatubelysning ur funktion" and light["metadata"] is False
    assert light["type"] == "realtime" and light["group"] == "Gata och park" and "gatlykta" in light["keywords"]

    r = client.get(f"{BASE}services.xml")
    assert r.status_code == 200 and r["Content-Type"].startswith("text/xml")
    root = ET.fromstring(r.content)
    assert root.tag == "services"
    codes = [s.findtext("service_code") for s in root.findall("service")]
    assert "pothole" in codes and root.find("service/metadata").text == "false"

    r = client.get(f"{BASE}services/streetlight.xml")
    root = ET.fromstring(r.content)
    assert root.tag == "service_definition" and root.findtext("service_code") == "streetlight"


def test_a_street_light_report_becomes_a_ticket_for_gata_park_and_its_status_reads_back(client, city, agent_api):
    r = file(client)
    assert r.status_code == 201, r.content
    [receipt] = r.json()
    reference = receipt["service_request_id"]
    assert receipt["service_notice"] == "Ärendet handläggs av Gata och park." and receipt["account_id"] is None

    ticket = Ticket.objects.get(reference=reference)
    assert (ticket.channel, ticket.department.code, ticket.category, ticket.status) == ("open311", "gata-park", "gatubelysning", "new")
    assert ticket.subject == "Gatubelysning ur funktion – Solnavägen 1, Solna"
    assert ticket.contact.name == "Aino Virtanen"
    assert ticket.contact.emails.get().address == "resident@example.org"
    message = ticket.messages.get()
    assert "släckt" in message.body_text and "Plats: Solnavägen 1, Solna (59.360123, 18.000987)" in message.body_text
    stored = ServiceRequest.objects.get(ticket=ticket)
    assert str(stored.lat) == "59.360123" and stored.service.service_code == "streetlight"

    r = client.get(f"{BASE}requests/{reference}.json")
    assert r.status_code == 200
    [item] = r.json()
    assert item["service_request_id"] == reference and item["status"] == "open"
    assert item["service_code"] == "streetlight" and item["agency_responsible"] == "Gata och park"
    assert item["description"] == STREETLIGHT["description"] and item["address"] == "Solnavägen 1, Solna"
    assert item["lat"] == pytest.approx(59.360123) and item["long"] == pytest.approx(18.000987)
    assert item["requested_datetime"] and item["updated_datetime"]
    # Never the resident's identity in the public feed.
    assert b"resident@example.org" not in r.content and b"Virtanen" not in r.content

    # An agent resolves it in the console; the Open311 client sees it closed.
    assert agent_api.post(f"/api/v1/tickets/{reference}/resolve/", {"note": "Lampan bytt."}, format="json").status_code == 200
    r = client.get(f"{BASE}requests/{reference}.xml")
    root = ET.fromstring(r.content)
    assert root.tag == "service_requests"
    assert root.findtext("request/service_request_id") == reference
    assert root.findtext("request/status") == "closed"
    assert root.findtext("request/status_notes") == "Ärendet är avslutat."


def test_filing_through_the_xml_endpoint(client, city):
    r = file(client, "xml", service_code="missed-collection", address_string="Råsundavägen 12", lat="", long="",
             description="Soptunnan tömdes inte i tisdags.")
    assert r.status_code == 201, r.content
    root = ET.fromstring(r.content)
    reference = root.findtext("request/service_request_id")
    assert root.tag == "service_requests" and root.findtext("request/service_notice").startswith("Ärendet handläggs av Avfall")
    ticket = Ticket.objects.get(reference=reference)
    assert ticket.department.code == "avfall" and ticket.category == "missad-hamtning"
    assert ServiceRequest.objects.get(ticket=ticket).lat is None


def test_listing_filters_by_status_service_and_id(client, city, agent_api):
    light = file(client).json()[0]["service_request_id"]
    noise = file(client, service_code="noise", email="other@example.org").json()[0]["service_request_id"]
    agent_api.post(f"/api/v1/tickets/{noise}/resolve/", {}, format="json")

    def ids(query: str) -> list[str]:
        r = client.get(f"{BASE}requests.json{query}")
        assert r.status_code == 200, r.content
        return [i["service_request_id"] for i in r.json()]

    assert ids("") == [noise, light]
    assert ids("?status=open") == [light]
    assert ids("?status=closed") == [noise]
    assert ids("?status=open,closed") == [noise, light]
    assert ids("?service_code=noise") == [noise]
    assert ids(f"?service_request_id={light},{noise}&status=closed") == [noise, light]
    assert ids("?start_date=2000-01-01T00:00:00Z&end_date=2000-12-31T00:00:00Z") == []
    assert ids("?jurisdiction_id=solna.se&start_date=2000-01-01T00:00:00Z") == [noise, light]


def test_the_list_is_one_query(client, city, django_assert_num_queries):
    for i in range(5):
        file(client, email=f"p{i}@example.org")
    with django_assert_num_queries(1):
        assert len(client.get(f"{BASE}requests.json").json()) == 5


@pytest.mark.parametrize(
    ("overrides", "code", "fragment"),
    [
        ({"service_code": "no-such-service"}, 400, "service_code"),
        ({"lat": "", "long": "", "address_string": ""}, 400, "location"),
        ({"email": "not-an-email"}, 400, "email"),
        ({"lat": "123"}, 400, "lat"),
        ({"jurisdiction_id": "stockholm.se"}, 404, "jurisdiction_id"),
    ],
)
def test_errors_follow_the_spec(client, city, overrides, code, fragment):
    r = file(client, **overrides)
    assert r.status_code == code, r.content
    [error] = r.json()
    assert error["code"] == code and fragment in error["description"]
    assert Ticket.objects.count() == 0

    r = file(client, "xml", **overrides)
    root = ET.fromstring(r.content)
    assert root.tag == "errors" and root.findtext("error/code") == str(code)


def test_unknown_requests_and_services_are_404_in_both_formats(client, city):
    r = client.get(f"{BASE}requests/SOL-2026-999999.json")
    assert r.status_code == 404 and r.json()[0]["code"] == 404
    r = client.get(f"{BASE}services/no-such.xml")
    assert r.status_code == 404 and ET.fromstring(r.content).findtext("error/code") == "404"
    assert client.get(f"{BASE}requests.html").status_code == 404


def test_an_api_key_is_required_when_configured(client, city, settings):
    settings.OPEN311_API_KEYS = ["city-app-key"]
    r = file(client)
    assert r.status_code == 403 and r.json() == [{"code": 403, "description": "Invalid api_key."}]
    assert file(client, api_key="wrong").status_code == 403
    assert file(client, api_key="city-app-key").status_code == 201
    assert Ticket.objects.count() == 1


def test_a_retry_with_the_same_idempotency_key_files_once(client, city):
    body = {"service_code": "pothole", "address_string": "Frösundaleden 2", "email": "r@example.org"}
    first = client.generic("POST", f"{BASE}requests.json", data=_form(body), content_type="application/x-www-form-urlencoded",
                           HTTP_IDEMPOTENCY_KEY="app-req-000123")
    again = client.generic("POST", f"{BASE}requests.json", data=_form(body), content_type="application/x-www-form-urlencoded",
                           HTTP_IDEMPOTENCY_KEY="app-req-000123")
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()[0]["service_request_id"] == again.json()[0]["service_request_id"]
    assert Ticket.objects.count() == 1


def test_a_service_without_its_department_stays_with_the_contact_centre(client):
    # Departments not imported yet: the catalogue is still served, requests are not lost.
    catalogue_sync(service_model=ServiceDefinition, department_model=Department)
    r = file(client)
    assert r.status_code == 201
    ticket = Ticket.objects.get(reference=r.json()[0]["service_request_id"])
    assert ticket.department is None and ticket.category == "gatubelysning"
    assert r.json()[0]["service_notice"] == "Ärendet handläggs av stadens kontaktcenter."


def test_the_sync_command_links_departments_imported_later(db):
    catalogue_sync(service_model=ServiceDefinition, department_model=Department)
    assert ServiceDefinition.objects.get(service_code="pothole").department is None
    DepartmentFactory(code="gata-park", name="Gata och park")
    out = StringIO()
    call_command("open311_sync_services", stdout=out)
    assert ServiceDefinition.objects.get(service_code="pothole").department.code == "gata-park"
    assert "0 created" in out.getvalue()
    assert not Department.objects.filter(code="avfall").exists()  # never creates departments


def test_discovery(client):
    r = client.get(f"{BASE}discovery.json")
    assert r.status_code == 200
    assert r.json()["endpoints"][0]["specification"] == "http://wiki.open311.org/GeoReport_v2"
