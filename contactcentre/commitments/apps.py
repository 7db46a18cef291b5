from django.apps import AppConfig


class CommitmentsConfig(AppConfig):
    name = "contactcentre.commitments"
    label = "commitments"
    verbose_name = "Serviceåtaganden"
