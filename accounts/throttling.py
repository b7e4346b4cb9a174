"""Per-account login throttling: failed attempts on one email are limited, whatever address they come from.

The per-address limit (DRF's ScopedRateThrottle, scope "login") stops one client hammering many
accounts; this one stops many clients (a botnet) guessing one account's password. It counts only
failures, so a user who logs in often is never slowed down, and it counts failures for emails that
have no account exactly like the others, so a 429 reveals nothing about which emails are registered.
"""

from __future__ import annotations

import hashlib

from django.core.cache import cache
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

SCOPE = "login_account"


class LoginAccountThrottle(SimpleRateThrottle):
    scope = SCOPE
    cache = cache

    def get_rate(self) -> str | None:
        # Read at call time (not import time) so an operator's or a test's override applies.
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)

    def _key(self, email: str) -> str:
        digest = hashlib.sha256(email.strip().lower().encode("utf-8", "surrogatepass")).hexdigest()
        return self.cache_format % {"scope": self.scope, "ident": digest}

    def get_cache_key(self, request, view) -> str | None:
        email = request.data.get("email") if isinstance(request.data, dict) else None
        return self._key(email) if isinstance(email, str) and email else None

    def allow_request(self, request, view) -> bool:
        """Refuse while the account has too many recent failures; a request alone records nothing."""
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        self.history = self.cache.get(self.key, [])
        self.now = self.timer()
        while self.history and self.history[-1] <= self.now - self.duration:
            self.history.pop()
        return len(self.history) < self.num_requests

    def record_failure(self, email: str) -> None:
        """Count one failed login for this email (registered or not)."""
        if self.rate is None:
            return
        key = self._key(email)
        now = self.timer()
        history = [at for at in self.cache.get(key, []) if at > now - self.duration]
        history.insert(0, now)
        self.cache.set(key, history, self.duration)
