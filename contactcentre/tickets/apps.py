from django.apps import AppConfig


class TicketsConfig(AppConfig):
    name = "contactcentre.tickets"
    label = "tickets"
    verbose_name = "Ärenden"
