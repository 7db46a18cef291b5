from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "contactcentre.ops"
    label = "ops"
    verbose_name = "Operations"
