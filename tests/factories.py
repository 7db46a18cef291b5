from __future__ import annotations

import factory
from django.contrib.auth import get_user_model
from factory.django import DjangoModelFactory

from contactcentre.tickets.models import Contact, ContactEmail, Department, Ticket


class DepartmentFactory(DjangoModelFactory):
    class Meta:
        model = Department
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"dept{n}")
    name = factory.LazyAttribute(lambda o: o.code.capitalize())
    email = factory.LazyAttribute(lambda o: f"{o.code}@solna.example.org")
    phone = "08-465 004 10"


class UserFactory(DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"agent{n}")
    first_name = factory.Faker("first_name", locale="sv_SE")
    email = factory.LazyAttribute(lambda o: f"{o.username}@solna.example.org")
    role = "agent"
    password = factory.PostGenerationMethodCall("set_password", "correct-horse-battery")

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):  # type: ignore[no-untyped-def]
        if create:
            obj.save()


class ContactFactory(DjangoModelFactory):
    class Meta:
        model = Contact

    name = factory.Faker("name", locale="sv_SE")


class TicketFactory(DjangoModelFactory):
    class Meta:
        model = Ticket

    reference = factory.Sequence(lambda n: f"SOL-2026-{900000 + n:06d}")
    channel = "web"
    subject = factory.Sequence(lambda n: f"Fråga {n}")
    contact = factory.SubFactory(ContactFactory)


def contact_with_email(address: str, name: str = "Anna Andersson") -> Contact:
    contact = Contact.objects.create(name=name)
    ContactEmail.objects.create(contact=contact, address=address)
    return contact
