from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "contactcentre.accounts"
    label = "accounts"
    verbose_name = "Accounts"
