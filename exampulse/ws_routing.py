"""WebSocket URL wiring. The consumer lives in monitoring; only this project module imports it."""

from monitoring.live.routing import websocket_urlpatterns

__all__ = ["websocket_urlpatterns"]
