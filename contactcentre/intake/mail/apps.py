from django.apps import AppConfig


class MailConfig(AppConfig):
    name = "contactcentre.intake.mail"
    label = "mail"
    verbose_name = "E-mail channel"
