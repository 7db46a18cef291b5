from django.apps import AppConfig


class ChatConfig(AppConfig):
    name = "contactcentre.intake.chat"
    label = "chat"
    verbose_name = "Resident web chat"
