"""The default survey, compatible with SKR's Servicemätning (bemötande, tydlighet, enkelhet on
1-5), plus "did you get the answer you needed?" and free text. Editable afterwards (admin)."""

from django.db import migrations

SCALE = {"sv": ["Mycket dåligt", "Mycket bra"], "en": ["Very poor", "Very good"], "fi": ["Erittäin huono", "Erittäin hyvä"]}
EASE = {"sv": ["Mycket svårt", "Mycket enkelt"], "en": ["Very difficult", "Very easy"], "fi": ["Erittäin vaikeaa", "Erittäin helppoa"]}
CLARITY = {"sv": ["Mycket otydligt", "Mycket tydligt"], "en": ["Very unclear", "Very clear"], "fi": ["Erittäin epäselvä", "Erittäin selkeä"]}

QUESTIONS = [
    ("bemotande", "scale", {"sv": "Hur upplevde du vårt bemötande?", "en": "How were you treated by us?",
                            "fi": "Miten koit saamasi palvelun ja kohtelun?"}, SCALE, True),
    ("tydlighet", "scale", {"sv": "Hur tydligt var svaret du fick?", "en": "How clear was the answer you got?",
                            "fi": "Kuinka selkeä saamasi vastaus oli?"}, CLARITY, False),
    ("enkelhet", "scale", {"sv": "Hur enkelt var det att få kontakt och hjälp?",
                           "en": "How easy was it to reach us and get help?",
                           "fi": "Kuinka helppoa oli saada yhteys ja apua?"}, EASE, False),
    ("fick_svar", "yes_no", {"sv": "Fick du svar på det du behövde?", "en": "Did you get the answer you needed?",
                             "fi": "Saitko vastauksen siihen, mitä tarvitsit?"}, {}, False),
    ("fritext", "text", {"sv": "Vill du berätta mer? Vad kan vi göra bättre?",
                         "en": "Anything you would like to tell us? What can we do better?",
                         "fi": "Haluatko kertoa lisää? Mitä voisimme tehdä paremmin?"}, {}, False),
]


def forwards(apps, schema_editor):  # type: ignore[no-untyped-def]
    Survey = apps.get_model("experience", "Survey")
    Question = apps.get_model("experience", "Question")
    survey, _ = Survey.objects.get_or_create(code="servicematning", defaults={"name": "Servicemätning efter kontakt"})
    for order, (code, kind, text, labels, required) in enumerate(QUESTIONS):
        Question.objects.get_or_create(survey=survey, code=code, defaults={
            "order": order * 10, "kind": kind, "text": text, "scale_labels": labels, "required": required,
            "scale_min": 1, "scale_max": 5,
        })


class Migration(migrations.Migration):
    dependencies = [("experience", "0001_initial")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
