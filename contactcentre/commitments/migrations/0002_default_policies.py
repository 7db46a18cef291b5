"""The city's default promises per channel (editable in the admin). A working day is 8 hours
of the office calendar (Mon-Fri 08-17 less lunch is modelled as 08-17: 9 h; we promise in
working hours)."""

from django.db import migrations

DEFAULTS = [
    ("E-post", "email", "Vi svarar på e-post inom 2 arbetsdagar.", 18.0, 90.0),
    ("Webbformulär", "web", "Vi svarar på webbformulär inom 2 arbetsdagar.", 18.0, 90.0),
    ("Chatt", "chat", "I chatten svarar vi direkt under öppettiderna.", 0.25, 18.0),
    ("Telefon", "phone", "Ärenden från telefon är lösta eller överlämnade inom 2 arbetsdagar.", None, 18.0),
    ("Open311", "open311", "Felanmälningar bekräftas inom 1 arbetsdag.", 9.0, 90.0),
]


def create(apps, schema_editor):
    Policy = apps.get_model("commitments", "CommitmentPolicy")
    for name, channel, text, first, resolution in DEFAULTS:
        Policy.objects.get_or_create(
            name=name, defaults={"channel": channel, "public_text": text, "first_response_hours": first,
                                 "resolution_hours": resolution},
        )


def remove(apps, schema_editor):
    apps.get_model("commitments", "CommitmentPolicy").objects.filter(name__in=[d[0] for d in DEFAULTS]).delete()


class Migration(migrations.Migration):
    dependencies = [("commitments", "0001_initial")]
    operations = [migrations.RunPython(create, remove)]
