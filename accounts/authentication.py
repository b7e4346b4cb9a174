"""REST authentication: SimpleJWT's access-token checks plus the logout denylist."""

from __future__ import annotations

from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import InvalidToken
from rest_framework_simplejwt.settings import api_settings

from accounts.selectors import access_token_revoked


class RevocableJWTAuthentication(JWTAuthentication):
    """An access token revoked by logout is refused like an expired one (401), before its user is loaded."""

    def get_validated_token(self, raw_token: bytes):
        validated = super().get_validated_token(raw_token)
        if access_token_revoked(validated.get(api_settings.JTI_CLAIM)):
            raise InvalidToken({"detail": "Token has been revoked.", "code": "token_revoked"})
        return validated


class RevocableJWTScheme(SimpleJWTScheme):
    """OpenAPI: the same bearer scheme as SimpleJWT's (drf-spectacular matches extensions by exact class)."""

    target_class = "accounts.authentication.RevocableJWTAuthentication"
