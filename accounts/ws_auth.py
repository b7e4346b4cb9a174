"""WebSocket authentication: the access JWT (`?token=` or `Authorization: Bearer`), else the session.

The user lands on `scope["user"]`; an invalid or expired token leaves an AnonymousUser, which the
consumer refuses. A token that is present but bad never falls back to the session cookie.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

from channels.auth import AuthMiddlewareStack
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import AuthenticationFailed, InvalidToken, TokenError
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.utils import get_md5_hash_password

from accounts.selectors import revoked_access_token_ids
from exampulse.platform.db import HopBatcher


def token_from_scope(scope: dict) -> str | None:
    """The raw access token from the query string or the Authorization header, if any."""
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    if query.get("token"):
        return query["token"][0]
    for name, value in scope.get("headers", []):
        if name == b"authorization":
            parts = value.decode("latin-1").split()
            if len(parts) == 2 and parts[0].lower() == "bearer":
                return parts[1]
    return None


class _BatchAuthentication(JWTAuthentication):
    """SimpleJWT's checks, with the users of a whole batch of handshakes fetched in one query."""

    def __init__(self, users: dict[Any, Any]) -> None:
        super().__init__()
        self.users = users

    def get_user(self, validated_token):
        user = self.users.get(str(validated_token.get(api_settings.USER_ID_CLAIM)))
        if user is None:
            raise AuthenticationFailed("User not found", code="user_not_found")
        if api_settings.CHECK_USER_IS_ACTIVE and not user.is_active:
            raise AuthenticationFailed("User is inactive", code="user_inactive")
        # A password change revokes every token issued before it (the token carries a hash of it).
        if api_settings.CHECK_REVOKE_TOKEN and validated_token.get(
            api_settings.REVOKE_TOKEN_CLAIM
        ) != get_md5_hash_password(user.password):
            raise AuthenticationFailed("The user's password has been changed.", code="password_changed")
        return user


def users_from_tokens(raw_tokens: list[str]) -> list[Any]:
    """Validate each access token and load its active user (AnonymousUser when it fails or was revoked)."""
    validator = JWTAuthentication()
    validated: list[Any] = []
    for raw_token in raw_tokens:
        try:
            validated.append(validator.get_validated_token(raw_token.encode()))
        except (InvalidToken, TokenError):
            validated.append(None)
    # Tokens revoked by logout: one query for the whole batch, like the users below.
    jtis = {token.get(api_settings.JTI_CLAIM) for token in validated if token is not None}
    revoked = revoked_access_token_ids({jti for jti in jtis if isinstance(jti, str)})
    validated = [
        None if token is None or token.get(api_settings.JTI_CLAIM) in revoked else token for token in validated
    ]
    # Only well-formed ids reach the query: one odd claim must not fail the whole batch's lookup.
    ids = {str(token.get(api_settings.USER_ID_CLAIM)) for token in validated if token is not None}
    ids = {int(value) for value in ids if value.isdigit()}
    users = get_user_model().objects.filter(**{f"{api_settings.USER_ID_FIELD}__in": ids})
    authenticator = _BatchAuthentication({str(getattr(user, api_settings.USER_ID_FIELD)): user for user in users})
    outcomes = []
    for token in validated:
        try:
            outcomes.append(AnonymousUser() if token is None else authenticator.get_user(token))
        except (InvalidToken, TokenError, AuthenticationFailed):
            outcomes.append(AnonymousUser())
    return outcomes


# Handshakes come in floods at an exam's start: their user lookups share database hops.
handshakes = HopBatcher(
    users_from_tokens, max_batch="WS_BATCH_MAX", workers="WS_BATCH_WORKERS", linger="WS_JOIN_LINGER_MS"
)


class JwtAuthMiddleware:
    """A token decides the user on its own; only a token-less handshake goes through the session."""

    def __init__(self, app) -> None:
        self.app = app
        # The session path costs a database hop per handshake; token clients (every exam
        # socket) skip it.
        self.session_app = AuthMiddlewareStack(app)

    async def __call__(self, scope, receive, send):
        raw_token = token_from_scope(scope)
        if raw_token is None:
            return await self.session_app(scope, receive, send)
        scope = dict(scope, user=await handshakes.submit(raw_token))
        return await self.app(scope, receive, send)


def JwtAuthMiddlewareStack(app):  # noqa: N802 - mirrors channels.auth.AuthMiddlewareStack
    """JWT for exam clients, the Django session (the dashboard) when no token is given."""
    return JwtAuthMiddleware(app)
