"""Run the whole embedded system in one process: daphne (HTTP + websockets) and the in-process
services of ``settings.EMBEDDED_SERVICES`` (the SMTP listener, the scheduler), which share the
in-memory channel layer with the web server."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils.module_loading import import_string

log = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "Serve HTTP and websockets with daphne, plus the embedded background services."

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--no-services", action="store_true", help="only the web server")

    def handle(self, *args, **opts):  # type: ignore[no-untyped-def]
        import os

        from channels.routing import get_default_application
        from daphne.endpoints import build_endpoint_description_strings
        from daphne.server import Server

        if not os.environ.get("PUBLIC_BASE_URL"):
            # Links in receipts and status pages point at this server unless configured otherwise.
            settings.PUBLIC_BASE_URL = f"http://{opts['host']}:{opts['port']}"
        started = []
        if not opts["no_services"]:
            for path in getattr(settings, "EMBEDDED_SERVICES", []):
                description = import_string(path)()
                started.append(description)
        base = f"http://{opts['host']}:{opts['port']}"
        self.stdout.write(self.style.SUCCESS("contactcentre is running:"))
        for label, url in [
            ("Start page", "/"),
            ("Agent console", "/console/"),
            ("Department", "/department/"),
            ("Supervisor", "/supervisor/"),
            ("Chat demo", "/chat/demo/"),
            ("API docs", "/api/docs/"),
            ("Admin", "/admin/"),
        ]:
            self.stdout.write(f"  {label:15} {base}{url}")
        for description in started:
            self.stdout.write(f"  {description}")
        self.stdout.flush()
        Server(
            application=get_default_application(),
            endpoints=build_endpoint_description_strings(host=opts["host"], port=opts["port"]),
            verbosity=0,
            websocket_timeout=86400,
            application_close_timeout=10,
        ).run()
