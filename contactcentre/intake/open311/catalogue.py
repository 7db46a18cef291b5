"""The city's default Open311 service catalogue and its idempotent sync.

Departments come from ``import_knowledge``; a service whose department is not there yet is still
listed (its requests stay with the contact centre) and is linked by a later sync. The sync never
overwrites what an administrator edited, and never creates departments.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class CatalogueEntry:
    code: str
    name: str
    description: str
    department: str
    category: str
    group: str
    keywords: tuple[str, ...] = ()


STREETS = "Gata och park"
WASTE = "Avfall och återvinning"
ENVIRONMENT = "Miljö och hälsa"
PARKING = "Parkering och fordon"
OTHER = "Övrigt"

CATALOGUE: tuple[CatalogueEntry, ...] = (
    CatalogueEntry("streetlight", "Gatubelysning ur funktion", "En gatlykta eller parkbelysning som är släckt, blinkar eller är skadad.",
                   "gata-park", "gatubelysning", STREETS, ("gatlykta", "belysning", "street light", "lampa")),
    CatalogueEntry("pothole", "Potthål eller skadad beläggning", "Hål, sprickor eller sättningar i gata, gång- eller cykelväg.",
                   "gata-park", "potthal", STREETS, ("potthål", "hål i gatan", "pothole", "asfalt")),
    CatalogueEntry("snow-ice", "Snöröjning och halka", "Gata, gång- eller cykelväg som inte är plogad eller sandad.",
                   "gata-park", "snorojning", STREETS, ("snö", "halka", "plogning", "sandning")),
    CatalogueEntry("playground", "Skadad lekplats", "Trasiga eller farliga lekredskap på en av stadens lekplatser.",
                   "gata-park", "lekplats", STREETS, ("lekplats", "gunga", "rutschkana")),
    CatalogueEntry("fallen-tree", "Träd och grenar", "Nedfallna träd eller grenar, eller växtlighet som skymmer sikten.",
                   "gata-park", "trad", STREETS, ("träd", "gren", "häck", "sikt")),
    CatalogueEntry("litter", "Nedskräpning", "Skräp, fulla papperskorgar eller dumpat avfall på allmän plats.",
                   "gata-park", "nedskrapning", STREETS, ("skräp", "papperskorg", "dumpning")),
    CatalogueEntry("graffiti", "Klotter", "Klotter eller olaglig affischering på stadens egendom.",
                   "gata-park", "klotter", STREETS, ("klotter", "graffiti", "tagg")),
    CatalogueEntry("missed-collection", "Missad sophämtning", "Soptunnan eller matavfallskärlet blev inte tömt på hämtdagen.",
                   "avfall", "missad-hamtning", WASTE, ("sophämtning", "soptunna", "tömning", "kärl")),
    CatalogueEntry("recycling-station", "Full eller nedskräpad återvinningsstation", "En återvinningsstation med fulla behållare eller skräp runt omkring.",
                   "avfall", "atervinningsstation", WASTE, ("återvinning", "glas", "förpackningar")),
    CatalogueEntry("noise", "Buller och störningar", "Störande buller, till exempel från byggarbeten, fläktar eller verksamheter.",
                   "miljotillsyn", "buller", ENVIRONMENT, ("buller", "oväsen", "störning", "noise")),
    CatalogueEntry("pests", "Skadedjur på allmän plats", "Råttor eller andra skadedjur i parker, på gator eller torg.",
                   "miljotillsyn", "skadedjur", ENVIRONMENT, ("råttor", "skadedjur")),
    CatalogueEntry("abandoned-vehicle", "Övergivet fordon", "En bil, moped eller cykel som verkar övergiven på gatumark.",
                   "parkering", "overgivet-fordon", PARKING, ("övergiven bil", "skrotbil", "cykel")),
    CatalogueEntry("other", "Övrig felanmälan", "Annat fel i den offentliga miljön.",
                   "kundtjanst", "felanmalan", OTHER, ("fel", "övrigt")),
)


def catalogue_sync(*, service_model: Any, department_model: Any) -> dict[str, int]:
    """Create missing services and link departments that now exist. Takes the model classes so
    the data migration can pass its historical models."""
    wanted = {entry.department for entry in CATALOGUE}
    departments = {d.code: d for d in department_model.objects.filter(code__in=wanted)}
    created = linked = 0
    for entry in CATALOGUE:
        department = departments.get(entry.department)
        service, was_created = service_model.objects.get_or_create(
            service_code=entry.code,
            defaults={
                "service_name": entry.name,
                "description": entry.description,
                "department": department,
                "category": entry.category,
                "group": entry.group,
                "keywords": list(entry.keywords),
            },
        )
        created += was_created
        if not was_created and service.department_id is None and department is not None:
            service.department = department
            service.save(update_fields=["department"])
            linked += 1
    return {"created": created, "linked": linked, "missing_departments": len(wanted - set(departments))}
