from django.apps import AppConfig


class IntakeConfig(AppConfig):
    name = "contactcentre.intake"
    label = "intake"
    verbose_name = "Intake channels"
