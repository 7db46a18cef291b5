"""A deterministic quarter of contacts for indicator and dashboard tests."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from django.utils import timezone

from contactcentre.complaints import services as complaints
from contactcentre.complaints.models import Complaint
from contactcentre.experience.models import Question, SurveyAnswer, SurveyInvitation, SurveyResponse
from contactcentre.tickets.models import Contact, Department, Ticket
from tests.factories import TicketFactory

CHANNELS = [("phone", 40), ("email", 30), ("chat", 18), ("web", 12)]
CATEGORIES = ["bygglov", "parkering", "avfall", "skola", "forskola", "bostad", "complaint"]
SUBJECTS = ["Parkeringstillstånd för boende", "Hämtning av grovsopor", "Plats i förskola", "Bygglov för altan",
            "Felparkerad bil på gatan", "Kösystem förskola", "Sophämtning missad", "Buller från byggarbetsplats"]
FEEDBACK = ["Snabbt och vänligt svar", "Fick vänta länge i telefon", "Tydligt svar om parkering",
            "Vänligt bemötande men lång väntan", "Svaret var otydligt", "Mycket snabbt svar, tack"]


def seed(*, weeks: int = 12, per_day: int = 6, now: datetime | None = None, actor=None) -> None:  # type: ignore[no-untyped-def]
    rng = random.Random(42)
    now = now or timezone.now()
    departments = list(Department.objects.all()) or [None]
    questions = {q.code: q for q in Question.objects.all()}
    resident = Contact.objects.create(name="Resident", kind="resident")
    business = Contact.objects.create(name="Företag AB", kind="business")
    for day in range(weeks * 7, 0, -1):
        for _ in range(per_day + rng.randint(-2, 3)):
            created = now - timedelta(days=day, hours=rng.randint(0, 9), minutes=rng.randint(0, 59))
            created = created.replace(hour=rng.choice([8, 9, 9, 10, 10, 11, 13, 14, 14, 15, 16, 19]))
            channel = rng.choices([c for c, _ in CHANNELS], [w for _, w in CHANNELS])[0]
            escalated = rng.random() < 0.22
            fcr = not escalated and rng.random() < 0.78
            first = created + timedelta(hours=rng.choice([0.2, 1, 3, 20, 30, 60]))
            ticket = TicketFactory(
                channel=channel, status="resolved", subject=rng.choice(SUBJECTS), created_at=created,
                category=rng.choice(CATEGORIES), department=rng.choice(departments) if escalated or rng.random() < .5 else None,
                contact=business if rng.random() < 0.15 else resident, first_response_at=first,
                first_response_due_at=created + timedelta(hours=16), resolved_at=first + timedelta(hours=1),
                escalated_at=created + timedelta(minutes=20) if escalated else None, first_contact_resolution=fcr,
                is_complaint=rng.random() < 0.04, routing={"action": "agent", "article": None, "confidence": 0.2},
            )
            if ticket.is_complaint:
                complaint = Complaint.objects.create(ticket=ticket, source="routing", department=ticket.department,
                                                     registered_at=created, answer_due_at=complaints.complaint_answer_due(created))
                if rng.random() < 0.7 and actor is not None:
                    complaints.complaint_investigate(complaint_id=complaint.pk, actor=actor, findings="Utrett", now=created)
                    if rng.random() < 0.8:
                        complaints.complaint_answer(complaint_id=complaint.pk, actor=actor, answer_summary="Svar",
                                                    now=created + timedelta(days=rng.choice([2, 6, 20])))
                        if rng.random() < 0.6:
                            complaints.complaint_close(complaint_id=complaint.pk, actor=actor,
                                                       root_cause=rng.choice(["information", "handling-time", "treatment"]),
                                                       improvement_action="Rutin ändrad")
            if rng.random() < 0.6:
                invitation = SurveyInvitation.objects.create(ticket=ticket, survey=questions["bemotande"].survey,
                                                             status="sent", via="email", sent_at=first)
                if rng.random() < 0.45:
                    response = SurveyResponse.objects.create(invitation=invitation)
                    SurveyInvitation.objects.filter(pk=invitation.pk).update(responded_at=first)
                    base = rng.choice([5, 5, 4, 4, 4, 3, 2, 5, 4, 1])
                    SurveyAnswer.objects.bulk_create([
                        SurveyAnswer(response=response, question=questions["bemotande"], value_int=base),
                        SurveyAnswer(response=response, question=questions["tydlighet"], value_int=max(1, min(5, base + rng.randint(-1, 1)))),
                        SurveyAnswer(response=response, question=questions["enkelhet"], value_int=max(1, min(5, base - rng.randint(0, 1)))),
                        SurveyAnswer(response=response, question=questions["fick_svar"], value_bool=base >= 3),
                        SurveyAnswer(response=response, question=questions["fritext"], value_text=rng.choice(FEEDBACK)),
                    ])
    Ticket.objects.filter(first_response_due_at__isnull=True).update(first_response_due_at=None)
