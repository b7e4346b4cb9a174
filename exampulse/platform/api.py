"""The API's response envelope, done once: a renderer, an exception handler, a paginator.

Success: `{"message": str, "data": ...}`; lists add `count`, `next`, `previous`.
Failure: `{"error": str, "details": {...}}` with the right 4xx status.
Views return plain data; `respond()` lets one attach a message or top-level extras.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, JsonResponse
from django.views import defaults as django_defaults
from rest_framework import exceptions, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.parsers import JSONParser
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from exampulse.platform.errors import DomainError, Forbidden, NotFound
from exampulse.platform.json_limits import MAX_JSON_DEPTH, json_too_deep

logger = logging.getLogger(__name__)

_DEFAULT_MESSAGES = {200: "OK", 201: "Created", 202: "Accepted", 204: "Deleted"}


def respond(
    data: Any = None,
    *,
    message: str | None = None,
    status_code: int = status.HTTP_200_OK,
    extra: dict[str, Any] | None = None,
) -> Response:
    """Build a success response; the renderer wraps it in the envelope."""
    response = Response(data, status=status_code)
    response.envelope_message = message
    response.envelope_extra = extra or {}
    return response


class EnvelopeJSONRenderer(JSONRenderer):
    """Wrap every successful body in `{"message", "data"}`; error bodies pass through."""

    def render(self, data, accepted_media_type=None, renderer_context=None):
        renderer_context = renderer_context or {}
        response = renderer_context.get("response")
        if response is None or getattr(response, "envelope_done", False):
            return super().render(data, accepted_media_type, renderer_context)
        if response.status_code >= 400 or response.exception:
            return super().render(data, accepted_media_type, renderer_context)
        if response.status_code == 204:
            return b""
        message = getattr(response, "envelope_message", None) or _DEFAULT_MESSAGES.get(response.status_code, "OK")
        body: dict[str, Any] = {"message": message}
        body.update(getattr(response, "envelope_extra", {}) or {})
        if getattr(response, "envelope_paginated", False):
            body.update({k: data[k] for k in ("count", "next", "previous")})
            body["data"] = data["results"]
        else:
            body["data"] = data
        response.envelope_done = True
        return super().render(body, accepted_media_type, renderer_context)


class EnvelopePagination(PageNumberPagination):
    """Page-number pagination whose metadata the renderer lifts beside `data`."""

    page_size_query_param = "page_size"
    max_page_size = 500

    def get_paginated_response(self, data):
        response = Response(
            {
                "count": self.page.paginator.count,
                "next": self.get_next_link(),
                "previous": self.get_previous_link(),
                "results": data,
            }
        )
        response.envelope_paginated = True
        return response

    def get_paginated_response_schema(self, schema):
        return {
            "type": "object",
            "required": ["message", "count", "data"],
            "properties": {
                "message": {"type": "string"},
                "count": {"type": "integer"},
                "next": {"type": "string", "nullable": True, "format": "uri"},
                "previous": {"type": "string", "nullable": True, "format": "uri"},
                "data": schema,
            },
        }


def _first_message(detail: Any) -> str | None:
    """Find the first human-readable message in a DRF error structure."""
    if isinstance(detail, str):
        return detail
    if isinstance(detail, list):
        # A field's messages belong together ("too short. too common."); nested items do not.
        if detail and all(isinstance(item, str) for item in detail):
            return " ".join(str(item) for item in detail)
        for item in detail:
            found = _first_message(item)
            if found:
                return found
    if isinstance(detail, dict):
        for key, value in detail.items():
            found = _first_message(value)
            if found:
                return found if key == "non_field_errors" else f"{key}: {found}"
    return None


def _plain(detail: Any) -> Any:
    """Turn ErrorDetail trees into plain JSON values."""
    if isinstance(detail, dict):
        return {str(k): _plain(v) for k, v in detail.items()}
    if isinstance(detail, list):
        return [_plain(v) for v in detail]
    return str(detail)


def error_response(message: str, *, status_code: int, details: dict | None = None) -> Response:
    """The one shape of every API error."""
    return Response({"error": message, "details": details or {}}, status=status_code)


def exception_handler(exc: Exception, context: dict) -> Response | None:
    """Map DRF, Django and domain exceptions to `{"error", "details"}`."""
    if isinstance(exc, DomainError):
        # Every refusal names itself in `details.code` (clients branch on it, never on the message);
        # an error that sets a more precise code in its details keeps that one.
        return error_response(exc.message, status_code=exc.status_code, details={"code": exc.code, **exc.details})
    if isinstance(exc, DjangoValidationError):
        details = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        exc = exceptions.ValidationError(details)
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()

    # Imported here, not at module level: DRF's settings import this module, and
    # `rest_framework.views` reads those settings at import time (a cycle whose outcome
    # depended on the order Django happened to run its system checks in).
    from rest_framework.views import exception_handler as drf_exception_handler

    response = drf_exception_handler(exc, context)
    if response is None:
        return None  # a bug, not bad input: let Django log it and answer 500
    detail = response.data
    if isinstance(exc, exceptions.ValidationError):
        details = _plain(detail) if isinstance(detail, dict) else {"non_field_errors": _plain(detail)}
        first = _first_message(detail) or "Invalid input."
        message = f"Invalid input: {first}"
    else:
        details = {}
        if isinstance(detail, dict) and "detail" in detail:
            message = str(detail["detail"])
            details = {k: _plain(v) for k, v in detail.items() if k != "detail"}
        else:
            message = _first_message(detail) or "Request failed."
        # DRF's own refusals of a role or an object carry the generic codes the domain errors use.
        if isinstance(exc, exceptions.PermissionDenied):
            details.setdefault("code", Forbidden.code)
        elif isinstance(exc, exceptions.NotFound):
            details.setdefault("code", NotFound.code)
        elif isinstance(exc, exceptions.APIException):
            # Its other refusals name themselves too (parse_error, not_authenticated, throttled, ...):
            # a client branches on `details.code` for every error, never on the message.
            codes = exc.get_codes()
            details.setdefault("code", codes if isinstance(codes, str) else exc.default_code)
    response.data = {"error": message, "details": details}
    return response


# --- OpenAPI: describe the envelope as it is sent --------------------------------------------

ERROR_SCHEMA = {
    "type": "object",
    "required": ["error", "details"],
    "properties": {
        "error": {"type": "string", "description": "A human-readable message."},
        "details": {
            "type": "object",
            "additionalProperties": True,
            "description": "Field errors or context; `code`: the refusal's stable machine code.",
        },
    },
}
_HTTP_METHODS = {"get", "put", "post", "patch", "delete", "head", "options", "trace"}


def _resolve(schema: dict, components: dict) -> dict:
    ref = schema.get("$ref", "")
    if ref.startswith("#/components/schemas/"):
        return components.get(ref.rsplit("/", 1)[1], {})
    return schema


def _is_envelope(schema: dict, components: dict) -> bool:
    properties = _resolve(schema, components).get("properties", {})
    return "message" in properties and "data" in properties


def _error_response(description: str) -> dict:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


def envelope_schema_hook(result: dict, generator, request, public) -> dict:
    """drf-spectacular postprocessing: wrap 2xx bodies in `{"message","data"}`, document the error shape."""
    components = result.setdefault("components", {}).setdefault("schemas", {})
    components["Error"] = ERROR_SCHEMA
    for component in components.values():
        # Role-dependent outputs overlap (the student view is a subset of the proctor view), so a
        # body matches more than one variant: "one of" would be false, "any of" is the truth.
        if "oneOf" in component and "discriminator" not in component:
            component["anyOf"] = component.pop("oneOf")
    for operations in result.get("paths", {}).values():
        for method, operation in operations.items():
            if method not in _HTTP_METHODS:
                continue
            responses = operation.setdefault("responses", {})
            for code, response in list(responses.items()):
                if code == "204":
                    continue
                if not code.startswith("2"):
                    # Every non-2xx answer the API builds is the error shape (e.g. health's 503).
                    responses[code] = _error_response(response.get("description") or "Error.")
                    continue
                content = response.setdefault("content", {})
                schema = (content.get("application/json") or {}).get("schema")
                if schema is not None and _is_envelope(schema, components):
                    continue
                data = schema if schema is not None else {"description": "No payload (null) or free-form."}
                content.clear()
                content["application/json"] = {
                    "schema": {
                        "type": "object",
                        "required": ["message", "data"],
                        "properties": {"message": {"type": "string"}, "data": data},
                    }
                }
            # Bad input, missing or bad token, role, unknown id, state conflicts, throttling: one shape.
            responses.setdefault("4XX", _error_response("Client error: `{error, details}`."))
    return result


# --- Django-level errors under /api/ ----------------------------------------------------------


def _api_error(request, message: str, status_code: int, fallback, details: dict | None = None):
    if request.path.startswith("/api/"):
        return JsonResponse({"error": message, "details": details or {}}, status=status_code)
    return fallback()


def not_found_handler(request, exception=None):
    """A URL no route matches: the JSON error shape under /api/ (code `not_found`), Django's page elsewhere."""
    return _api_error(
        request,
        "Not found.",
        404,
        lambda: django_defaults.page_not_found(request, exception or Http404()),
        {"code": NotFound.code},
    )


def server_error_handler(request):
    """An unhandled exception: never an HTML page to an API client."""
    return _api_error(request, "Server error.", 500, lambda: django_defaults.server_error(request))


_TOO_DEEP = f"JSON parse error - the body nests deeper than {MAX_JSON_DEPTH} levels."


class StrictJSONParser(JSONParser):
    """DRF's JSON parser, refusing deep nesting and text that decodes to a lone surrogate ("\\ud800").

    Python's json accepts such escapes, but the string cannot be encoded as UTF-8, so PostgreSQL
    refuses it later and the request would end in a 500 instead of a 400. Deep nesting makes the
    decoder raise RecursionError, which DRF (catching only ValueError) let through as a 500.
    """

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise exceptions.ParseError(_TOO_DEEP) from None
        if json_too_deep(data):
            raise exceptions.ParseError(_TOO_DEEP)
        try:
            json.dumps(data, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            raise exceptions.ParseError("JSON parse error - the text holds an invalid Unicode escape.") from None
        return data
