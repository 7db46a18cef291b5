"""ASGI entry: HTTP through Django, websockets through Channels (daphne serves both)."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "contactcentre.settings")
# Django must be set up before anything imports models (consumers, middleware).
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from contactcentre.wsauth import WebsocketAuthStack  # noqa: E402
from frontend.routing import websocket_urlpatterns  # noqa: E402

if os.environ.get("ROUTING_WARM_ON_START", "1") == "1":
    from routing.services import routing_model_warm_in_background  # noqa: E402

    routing_model_warm_in_background()

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": WebsocketAuthStack(URLRouter(websocket_urlpatterns)),
    }
)
