"""Refuse WebSocket handshakes from foreign browser origins; let origin-less clients through.

A browser sends the page's origin with every WebSocket handshake, and the dashboard's socket carries
the session cookie, so a foreign page could otherwise open a socket as the logged-in proctor
(cross-site WebSocket hijacking). An origin is the triple scheme, host and port: `http://host:9999`
and `https://host` are other sites than `http://host:8000`, however alike their host names.

Allowed: the server's own origin as the handshake shows it, and the origins listed in
`CORS_ALLOWED_ORIGINS` (a front end elsewhere) and `CSRF_TRUSTED_ORIGINS` (the admin behind a proxy).
The server's own origin is the handshake's `Host` header, which must name one of `ALLOWED_HOSTS`,
with the handshake's scheme: `wss` → https, `ws` (or none given) → http; behind a TLS-terminating
proxy, the scheme it reports in the header Django itself trusts (`SECURE_PROXY_SSL_HEADER`, on when
DEBUG is off), so the rule for sockets is the one for pages. A browser page cannot set that header on
a WebSocket handshake, so it cannot move the server's origin to match its own.

Channels' AllowedHostsOriginValidator refuses a handshake with no Origin header, which locks out
scripts, mobile apps and load tools that authenticate with a token. Browsers always send Origin, so a
missing header is not a cross-site attack; token auth still applies.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

from channels.security.websocket import WebsocketDenier
from django.conf import settings
from django.http.request import split_domain_port, validate_host

DEFAULT_PORTS = {"http": 80, "https": 443}
Origin = tuple[str, str, int]


def parse_origin(value: str | None) -> Origin | None:
    """(scheme, host, port) of an http(s) origin, the port made explicit; None for anything else ("null", file://)."""
    if not value:
        return None
    try:
        parsed = urlsplit(value.strip())
        port = parsed.port
    except ValueError:
        return None
    scheme = parsed.scheme.lower()
    if scheme not in DEFAULT_PORTS or not parsed.hostname or parsed.username is not None:
        return None
    if parsed.path not in ("", "/") or parsed.query or parsed.fragment:
        return None
    return scheme, parsed.hostname.lower(), port or DEFAULT_PORTS[scheme]


def _header(scope: dict, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return value.decode("latin-1")
    return None


def _allowed_hosts() -> list[str]:
    allowed = list(settings.ALLOWED_HOSTS)
    if settings.DEBUG and not allowed:
        allowed = ["localhost", "127.0.0.1", "[::1]"]
    return allowed


def handshake_scheme(scope: dict) -> str:
    """http or https: what the browser used to reach the server, as the handshake (or a trusted proxy) says."""
    scheme = "https" if scope.get("scheme") == "wss" else "http"
    proxy = getattr(settings, "SECURE_PROXY_SSL_HEADER", None)
    if proxy:
        meta_name, secure_value = proxy
        header = meta_name.removeprefix("HTTP_").lower().replace("_", "-").encode("latin-1")
        reported = _header(scope, header)
        if reported:
            # As Django reads it for pages: the first value a proxy chain reports.
            scheme = "https" if reported.split(",")[0].strip() == secure_value else "http"
    return scheme


def server_origin(scope: dict) -> Origin | None:
    """The server's own origin for this handshake, or None when its Host is missing or not an allowed host."""
    host = _header(scope, b"host")
    if not host:
        return None
    domain, _port = split_domain_port(host)
    if not domain or not validate_host(domain, _allowed_hosts()):
        return None
    return parse_origin(f"{handshake_scheme(scope)}://{host}")


def _listed(origin: Origin, entries: Iterable[str]) -> bool:
    """The origin is one of these configured origins (CSRF_TRUSTED_ORIGINS' `https://*.example.org` form too)."""
    scheme, host, port = origin
    for entry in entries:
        if "://*." in entry:
            wildcard = parse_origin(entry.replace("://*.", "://", 1))
            if wildcard and wildcard[0] == scheme and wildcard[2] == port and host.endswith("." + wildcard[1]):
                return True
        elif parse_origin(entry) == origin:
            return True
    return False


def origin_allowed(origin: str | None, *, scope: dict) -> bool:
    """True when the handshake sent no Origin, or its origin is the server's own or a configured one."""
    if origin is None:
        return True
    parsed = parse_origin(origin)
    if parsed is None:
        return False
    if parsed == server_origin(scope):
        return True
    return _listed(parsed, getattr(settings, "CORS_ALLOWED_ORIGINS", [])) or _listed(
        parsed, getattr(settings, "CSRF_TRUSTED_ORIGINS", [])
    )


class OriginValidator:
    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] == "websocket" and not origin_allowed(_header(scope, b"origin"), scope=scope):
            # Refused at the handshake (HTTP 403), before authentication: a foreign page learns nothing.
            return await WebsocketDenier()(scope, receive, send)
        return await self.app(scope, receive, send)
