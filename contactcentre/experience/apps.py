from django.apps import AppConfig


class ExperienceConfig(AppConfig):
    name = "contactcentre.experience"
    label = "experience"
    verbose_name = "Kundupplevelse"
