"""Refuse WebSocket handshakes from foreign browser origins; let origin-less clients through.

Channels' AllowedHostsOriginValidator refuses a handshake with no Origin header, which locks
out scripts, mobile apps and load tools that authenticate with a token. Browsers always send
Origin, so a missing header is not a cross-site attack; token auth still applies.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from channels.security.websocket import WebsocketDenier
from django.conf import settings
from django.http.request import split_domain_port, validate_host


def origin_allowed(origin: str | None) -> bool:
    """True when the origin is absent or its host is one the server answers to."""
    if origin is None:
        return True
    parsed = urlsplit(origin)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        return False
    if origin in getattr(settings, "CORS_ALLOWED_ORIGINS", []):
        return True
    host, _port = split_domain_port(parsed.netloc)
    allowed = list(settings.ALLOWED_HOSTS)
    if settings.DEBUG and not allowed:
        allowed = ["localhost", "127.0.0.1", "[::1]"]
    return validate_host(host or parsed.hostname, allowed)


class OriginValidator:
    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send):
        origin = None
        for name, value in scope.get("headers", []):
            if name == b"origin":
                origin = value.decode("latin-1")
                break
        if scope["type"] == "websocket" and not origin_allowed(origin):
            return await WebsocketDenier()(scope, receive, send)
        return await self.app(scope, receive, send)
