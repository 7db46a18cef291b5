from django.db import migrations


def seed(apps, schema_editor):  # type: ignore[no-untyped-def]
    from contactcentre.intake.open311.catalogue import catalogue_sync

    catalogue_sync(
        service_model=apps.get_model("open311", "ServiceDefinition"),
        department_model=apps.get_model("tickets", "Department"),
    )


class Migration(migrations.Migration):
    dependencies = [("open311", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
