"""Auth endpoints: register, login, refresh, logout, change-password, me, update-profile. Thin: parse, call, reply."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from accounts import services
from accounts.serializers import (
    LoginInputSerializer,
    PasswordResetConfirmInputSerializer,
    PasswordResetInputSerializer,
    ProfileInputSerializer,
    RefreshInputSerializer,
    RegisterInputSerializer,
    UserOutputSerializer,
)
from accounts.throttling import PerEmailThrottle
from exampulse.api import respond

# OpenAPI shapes of the bodies as sent (the envelope hook leaves full envelopes alone).
USER_DATA_SCHEMA = inline_serializer("UserData", fields={"user": UserOutputSerializer()})


def _envelope(name: str, *, data, **extra) -> serializers.Serializer:
    return inline_serializer(name, fields={"message": serializers.CharField(), **extra, "data": data})


_TOKENS_ENVELOPE = _envelope(
    "LoginResponse", data=USER_DATA_SCHEMA, token=serializers.CharField(), refresh=serializers.CharField()
)
_REFRESH_ENVELOPE = _envelope(
    "RefreshResponse",
    data=serializers.JSONField(allow_null=True),
    token=serializers.CharField(),
    refresh=serializers.CharField(allow_null=True),
)


class RegisterApi(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list = []
    # Per address, with room for a class registering from one lab (docs/api.md, Accounts).
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "register"

    @extend_schema(request=RegisterInputSerializer, responses={201: _TOKENS_ENVELOPE})
    def post(self, request):
        serializer = RegisterInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = services.user_register(**serializer.validated_data)
        # The spec's first step is "Register/Login -> receive a JWT": no second round trip to log in.
        tokens = services.tokens_issue(user=user)
        return respond(
            {"user": UserOutputSerializer(user).data},
            message="Registered and logged in.",
            status_code=status.HTTP_201_CREATED,
            extra=tokens,
        )


class LoginApi(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list = []
    # No count-based throttle: a lab's NAT logs hundreds in a minute from one address. Failures
    # are limited per account and per address by axes (accounts.throttling).

    @extend_schema(
        request=LoginInputSerializer,
        responses={200: _TOKENS_ENVELOPE},
        description="401 for a wrong email or password; 429 while the account or the address is locked out "
        "after too many failures (LOGIN_FAILURES_PER_ACCOUNT, LOGIN_FAILURES_PER_ADDRESS).",
    )
    def post(self, request):
        serializer = LoginInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = services.user_authenticate(request=request, **serializer.validated_data)
        tokens = services.tokens_issue(user=user)
        return respond({"user": UserOutputSerializer(user).data}, message="Logged in.", extra=tokens)


class RefreshApi(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list = []

    @extend_schema(request=RefreshInputSerializer, responses={200: _REFRESH_ENVELOPE})
    def post(self, request):
        serializer = RefreshInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        tokens = services.tokens_refresh(refresh=serializer.validated_data["refresh"])
        return respond(None, message="Token refreshed.", extra=tokens)


class LogoutApi(APIView):
    """POST /api/auth/logout: this device's refresh token and the access token that made the call stop working."""

    permission_classes = [IsAuthenticated]

    @extend_schema(request=RefreshInputSerializer, responses={200: None})
    def post(self, request):
        serializer = RefreshInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.tokens_revoke(user=request.user, refresh=serializer.validated_data["refresh"], access=request.auth)
        return respond(None, message="Logged out. The refresh and access tokens are revoked.")


class ChangePasswordInputSerializer(serializers.Serializer):
    current_password = serializers.CharField(max_length=128, trim_whitespace=False)
    new_password = serializers.CharField(max_length=128, trim_whitespace=False)


class ChangePasswordApi(APIView):
    """POST /api/auth/change-password: new password; every refresh and access token of the user stops working."""

    permission_classes = [IsAuthenticated]
    # Guessing the current password through this endpoint is throttled per user (the caller is
    # authenticated, so ScopedRateThrottle keys on the user, not on the lab's shared address).
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "change_password"

    @extend_schema(request=ChangePasswordInputSerializer, responses={200: _TOKENS_ENVELOPE})
    def post(self, request):
        serializer = ChangePasswordInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        revoked = services.user_change_password(user=request.user, **serializer.validated_data)
        # The caller's own tokens were revoked with the rest; hand this client a fresh pair.
        tokens = services.tokens_issue(user=request.user)
        return respond(
            {"user": UserOutputSerializer(request.user).data},
            message=f"Password changed. {revoked} refresh token(s) revoked; other devices must log in again.",
            extra=tokens,
        )


class MeApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses={200: USER_DATA_SCHEMA})
    def get(self, request):
        return respond({"user": UserOutputSerializer(request.user).data})


class UpdateProfileApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(request=ProfileInputSerializer, responses={200: USER_DATA_SCHEMA})
    def put(self, request):
        return self._update(request)

    @extend_schema(request=ProfileInputSerializer, responses={200: USER_DATA_SCHEMA})
    def patch(self, request):
        return self._update(request)

    def _update(self, request):
        serializer = ProfileInputSerializer(data=request.data, context={"user": request.user})
        serializer.is_valid(raise_exception=True)
        user = services.user_update_profile(user=request.user, data=serializer.validated_data)
        return respond({"user": UserOutputSerializer(user).data}, message="Profile updated.")


# One reply for every email, known or not: the endpoint must not tell which addresses have accounts.
PASSWORD_RESET_SENT = "If an account exists for that email, a link to reset its password is on its way."  # noqa: S105


class PasswordResetApi(APIView):
    """POST /api/auth/password-reset {email}: always the same 200 reply; a link is emailed if the account exists."""

    permission_classes = [AllowAny]
    authentication_classes: list = []
    # Per address (ScopedRateThrottle keys anonymous callers on it) and per email named in the body.
    throttle_classes = [ScopedRateThrottle, PerEmailThrottle]
    throttle_scope = "password_reset"

    @extend_schema(
        request=PasswordResetInputSerializer,
        responses={200: _envelope("PasswordResetResponse", data=serializers.JSONField(allow_null=True))},
        description="The same 200 reply whether or not the email has an account; 429 when throttled "
        "(PASSWORD_RESET_THROTTLE_RATE per address, PASSWORD_RESET_EMAIL_THROTTLE_RATE per email).",
    )
    def post(self, request):
        serializer = PasswordResetInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.password_reset_request(email=serializer.validated_data["email"])
        return respond(None, message=PASSWORD_RESET_SENT)


class PasswordResetConfirmApi(APIView):
    """POST /api/auth/password-reset/confirm {uid, token, new_password}: the link works once; every token is revoked."""

    permission_classes = [AllowAny]
    authentication_classes: list = []
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "password_reset_confirm"

    @extend_schema(
        request=PasswordResetConfirmInputSerializer,
        responses={200: _envelope("PasswordResetConfirmResponse", data=serializers.JSONField(allow_null=True))},
        description="400 `invalid_reset_link` for a wrong, used or expired link; 400 with the password "
        "policy's reasons under `new_password`. Log in afterwards with the new password.",
    )
    def post(self, request):
        serializer = PasswordResetConfirmInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.password_reset_confirm(**serializer.validated_data)
        return respond(None, message="Password set. Log in with your new password.")
