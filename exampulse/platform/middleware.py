"""Every error under /api/ leaves in the API's JSON envelope, whatever produced it and whatever DEBUG says;
every page carries the Content-Security-Policy, with its own socket's origin allowed to connect."""

from __future__ import annotations

import json
from collections.abc import Callable
from http import HTTPStatus

from csp.middleware import CSPMiddleware, PolicyParts
from django.conf import settings
from django.core.exceptions import DisallowedHost
from django.http import HttpRequest, HttpResponse, HttpResponseBase, JsonResponse

from exampulse.platform.errors import NotFound

_API_PREFIX = "/api/"


def is_api_path(path: str) -> bool:
    """True for the REST API's URL space (with or without the trailing slash on /api)."""
    return path.startswith(_API_PREFIX) or path == _API_PREFIX.rstrip("/")


def _is_json(response: HttpResponse) -> bool:
    content_type = response.get("Content-Type", "").split(";", 1)[0].strip().lower()
    return content_type == "application/json" or content_type.endswith("+json")


def _message(status_code: int) -> str:
    try:
        return f"{HTTPStatus(status_code).phrase}."
    except ValueError:
        return "Request failed." if status_code < 500 else "Server error."


def _declared_length(request: HttpRequest) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


class ApiErrorEnvelopeMiddleware:
    """Refuse oversized /api/ bodies up front (413) and turn any non-JSON /api/ error into `{"error","details"}`.

    DRF's exception handler covers what happens inside a DRF view. Django answers the rest itself,
    in HTML: a resolver miss (with DEBUG on it skips handler404 for the technical 404 page), an
    exception escaping a view (the technical 500 page with DEBUG on), RequestDataTooBig (a
    SuspiciousOperation: 400 HTML in both modes), a CSRF failure, a plain Django view's 405. An API
    client must be able to parse every answer, so the envelope is applied here, on the way out,
    keeping status and headers (Allow, Retry-After, CORS). Django still logs the exceptions first.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not is_api_path(request.path_info):
            return self.get_response(request)
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if limit is not None and _declared_length(request) > limit:
            # The same test Django applies when the body is read (RequestDataTooBig), made before
            # anything reads it. 413 Content Too Large is the status HTTP defines for this; Django's
            # 400 would tell the client its JSON was wrong when only its size was.
            return JsonResponse(
                {"error": f"Request body is larger than {limit} bytes.", "details": {"max_bytes": limit}},
                status=HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
            )
        response = self.get_response(request)
        if response.status_code >= 400 and not response.streaming and not _is_json(response):
            # A route nothing matched (Django's page under DEBUG) names itself like the API's own 404s.
            details = {"code": NotFound.code} if response.status_code == HTTPStatus.NOT_FOUND else {}
            body = json.dumps({"error": _message(response.status_code), "details": details}).encode()
            response.content = body
            response["Content-Type"] = "application/json"
            if response.has_header("Content-Length"):
                response["Content-Length"] = str(len(body))
        return response


class ContentSecurityPolicyMiddleware(CSPMiddleware):
    """django-csp's policy (settings.CONTENT_SECURITY_POLICY) on every response, plus the page's own
    WebSocket origin (ws:// or wss:// on this host and port) in connect-src.

    CSP3 counts a same-host ws(s) URL as 'self', but older browsers do not, and the dashboard and the
    exam client connect to /ws/exam/ on the host that served the page; naming it costs nothing.
    """

    def get_policy_parts(
        self, request: HttpRequest, response: HttpResponseBase, report_only: bool = False
    ) -> PolicyParts:
        parts = super().get_policy_parts(request, response, report_only)
        if report_only:
            return parts
        try:
            host = request.get_host()
        except DisallowedHost:
            return parts
        socket = f"{'wss' if request.is_secure() else 'ws'}://{host}"
        update = dict(parts.update or {})
        current = update.get("connect-src") or []
        update["connect-src"] = [*([current] if isinstance(current, str) else current), socket]
        parts.update = update
        return parts
