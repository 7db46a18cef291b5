from django.apps import AppConfig


class PhoneConfig(AppConfig):
    name = "contactcentre.intake.phone"
    label = "phone"
    verbose_name = "Phone (CTI) channel"
