"""Default root-cause categories; the list is configurable afterwards (admin)."""

from django.db import migrations

DEFAULTS = [
    ("information", "Brister i information", "Otydlig, saknad eller felaktig information"),
    ("treatment", "Bemötande", "Hur den som klagade blev bemött"),
    ("handling-time", "Handläggningstid", "Väntan, sena svar eller utebliven återkoppling"),
    ("decision", "Beslut eller regelverk", "Missnöje med ett beslut eller en regel"),
    ("accessibility", "Tillgänglighet", "Svårt att nå oss: öppettider, telefonkö, digitala kanaler"),
    ("quality", "Kvalitet i utförandet", "Tjänsten utfördes inte som utlovat"),
    ("other", "Övrigt", ""),
]


def forwards(apps, schema_editor):  # type: ignore[no-untyped-def]
    RootCause = apps.get_model("complaints", "RootCause")
    for order, (code, name, description) in enumerate(DEFAULTS):
        RootCause.objects.get_or_create(code=code, defaults={"name": name, "description": description, "order": order * 10})


class Migration(migrations.Migration):
    dependencies = [("complaints", "0001_initial")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
