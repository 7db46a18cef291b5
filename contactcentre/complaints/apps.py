from django.apps import AppConfig


class ComplaintsConfig(AppConfig):
    name = "contactcentre.complaints"
    label = "complaints"
    verbose_name = "Klagomålshantering"
