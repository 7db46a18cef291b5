from django.apps import AppConfig


class DepartmentsConfig(AppConfig):
    name = "contactcentre.departments"
    label = "departments"
    verbose_name = "Förvaltningar: arbetsyta, e-postaviseringar, webhooks"
