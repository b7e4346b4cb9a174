"""WebSocket URL wiring. The consumer lives in monitoring; only this project module imports it."""

websocket_urlpatterns: list = []
