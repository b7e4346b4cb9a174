"""Login lockout with django-axes: failed attempts are limited per account and per address, good logins never.

Exam day comes from one address: a lab behind one NAT logs in hundreds of students a minute, so a
count of *requests* per address would refuse them. Axes counts only *failures*, in the database
(shared by every server process), keyed by account and by address:

- an account is locked after `AXES_FAILURE_LIMIT` failures (default 10) from any address, which
  stops a botnet guessing one password; unknown emails count exactly like registered ones, so a
  lockout reveals nothing about which emails exist;
- an address is locked after `LOGIN_FAILURES_PER_ADDRESS` failures (default 100) over any
  accounts, which stops one client spraying passwords across a class list, while leaving room for a
  lab's honest typos.

Axes compares one failure count with one limit, so `LoginFailureHandler` reports each parameter's
failures in units of the account limit (see `get_failures`). Both windows are `AXES_COOLOFF_TIME`.
"""

from __future__ import annotations

import hashlib
import ipaddress
from typing import Any

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_failure_limit, get_lockout_message, get_lockout_parameters
from django.conf import settings
from django.db.models import Sum
from django.http import HttpRequest, HttpResponse, JsonResponse
from rest_framework.throttling import BaseThrottle, SimpleRateThrottle

from accounts.exceptions import LoginLockedOut


def client_ip(request: HttpRequest) -> str | None:
    """The client's address by DRF's rule (REMOTE_ADDR, or X-Forwarded-For past NUM_PROXIES trusted proxies).

    Axes and DRF's throttles must agree on who the client is; otherwise one could be fooled by a
    forged header the other ignores. A value that is not an address (a garbled header) falls back to
    REMOTE_ADDR, because axes stores it in an IP column.
    """
    ident = BaseThrottle().get_ident(request)
    try:
        return str(ipaddress.ip_address(ident))
    except ValueError:
        return request.META.get("REMOTE_ADDR")


def login_username(request: HttpRequest, credentials: dict[str, Any] | None) -> str | None:
    """The account an attempt was for, normalised like login normalises it (case-insensitive email).

    Django's `authenticate()` reports `username=`, axes' backend reports the USERNAME_FIELD (`email`),
    and the admin form posts `username`: all three must count against the same account.
    """
    value = None
    if credentials:
        value = credentials.get("username") or credentials.get("email")
    if value is None:
        data = getattr(request, "data", None)
        source = data if isinstance(data, dict) else request.POST
        value = source.get("email") or source.get("username")
    return value.strip().lower() if isinstance(value, str) else None


def lockout_response(request: HttpRequest, original_response: HttpResponse | None = None, credentials=None):
    """Axes' answer when its middleware sees a lockout: the API's JSON envelope under /api/, plain text elsewhere."""
    message = lockout_message()
    status = settings.AXES_HTTP_RESPONSE_CODE
    if request.path.startswith("/api/"):
        return JsonResponse({"error": message, "details": {"code": LoginLockedOut.code}}, status=status)
    return HttpResponse(message, status=status, content_type="text/plain; charset=utf-8")


def lockout_message() -> str:
    """What a locked-out client is told: why, and for how long."""
    cool_off = settings.AXES_COOLOFF_TIME
    if cool_off is None:
        return str(get_lockout_message())
    minutes = max(1, round(cool_off.total_seconds() / 60))
    return f"Too many failed login attempts. Try again in {minutes} minutes."


class LoginFailureHandler(AxesDatabaseHandler):
    """Axes' database handler with a failure budget per lockout parameter (account 10, address 100)."""

    def get_failures(self, request: HttpRequest, credentials: dict[str, Any] | None = None) -> int:
        """The worst parameter's failures in units of AXES_FAILURE_LIMIT, so each trips at its own budget.

        `failures * limit // budget >= limit` exactly when `failures >= budget`, so axes' single
        comparison with AXES_FAILURE_LIMIT locks an account at its limit and an address at its own.
        """
        limit = get_failure_limit(request, credentials)
        budgets = {"username": limit, "ip_address": settings.LOGIN_FAILURES_PER_ADDRESS}
        worst = 0
        parameters = get_lockout_parameters(request, credentials)
        for parameter, attempts in zip(parameters, self.get_user_attempts(request, credentials), strict=True):
            failures = attempts.aggregate(total=Sum("failures_since_start"))["total"] or 0
            budget = budgets.get(parameter, limit) if isinstance(parameter, str) else limit
            worst = max(worst, failures * limit // budget)
        return worst


class PerEmailThrottle(SimpleRateThrottle):
    """Limits requests naming one email address (password reset), whoever sends them and from wherever.

    Keyed on a hash of the normalised email in the body, so one mailbox cannot be flooded with reset
    messages; a body without a usable email is left to the serializer (400) and not counted.
    """

    scope = "password_reset_email"

    def get_cache_key(self, request, view) -> str | None:
        data = getattr(request, "data", None)
        email = data.get("email") if isinstance(data, dict) else None
        if not isinstance(email, str) or "@" not in email:
            return None
        digest = hashlib.sha256(email.strip().lower().encode()).hexdigest()
        return self.cache_format % {"scope": self.scope, "ident": digest}
