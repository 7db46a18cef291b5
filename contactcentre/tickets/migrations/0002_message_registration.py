"""Stored registration references for messages (public records: each item keeps its reference).

Existing messages get ``<ticket reference>/<n>`` in arrival order, the same value the computed
reference used to give, so references already handed out stay valid.
"""

from django.db import migrations, models


def backfill(apps, schema_editor):
    Ticket = apps.get_model("tickets", "Ticket")
    Message = apps.get_model("tickets", "Message")
    for ticket in Ticket.objects.only("id", "reference").iterator(chunk_size=2000):
        ids = list(Message.objects.filter(ticket_id=ticket.id).order_by("created_at", "id").values_list("id", flat=True))
        for n, pk in enumerate(ids, start=1):
            Message.objects.filter(pk=pk).update(registration=f"{ticket.reference}/{n}")
        Ticket.objects.filter(pk=ticket.id).update(registration_seq=len(ids))


class Migration(migrations.Migration):
    dependencies = [("tickets", "0001_initial")]

    operations = [
        migrations.AddField(
            model_name="ticket",
            name="registration_seq",
            field=models.PositiveIntegerField(default=0, editable=False),
        ),
        migrations.AddField(
            model_name="message",
            name="registration",
            field=models.CharField(max_length=48, null=True, editable=False),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="message",
            name="registration",
            field=models.CharField(max_length=48, unique=True, editable=False),
        ),
    ]
