from django.apps import AppConfig


class WorkdistConfig(AppConfig):
    name = "contactcentre.workdist"
    label = "workdist"
    verbose_name = "Work distribution, availability and canned replies"
