"""ASGI entry point: HTTP through Django, WebSocket through Channels with JWT auth."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "exampulse.settings")

from django.core.asgi import get_asgi_application

# Django must be set up before anything imports models (consumers, middleware).
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from accounts.ws_auth import JwtAuthMiddlewareStack  # noqa: E402
from exampulse.ws_origin import OriginValidator  # noqa: E402
from exampulse.ws_routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": OriginValidator(JwtAuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
    }
)
