from django.apps import AppConfig


class RecordsConfig(AppConfig):
    name = "contactcentre.records"
    label = "records"
    verbose_name = "Records, access log and data protection"

    def ready(self) -> None:
        from . import signals  # noqa: F401 - connects the auth-framework hooks that revoke sockets
