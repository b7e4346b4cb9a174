"""Auth endpoints: register, login, refresh, logout, me, update-profile. Thin: parse, call, reply."""

from __future__ import annotations

from django.contrib.auth import authenticate
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.serializers import TokenRefreshSerializer
from rest_framework_simplejwt.tokens import RefreshToken

from accounts import services
from accounts.serializers import (
    LoginInputSerializer,
    ProfileInputSerializer,
    RefreshInputSerializer,
    RegisterInputSerializer,
    UserOutputSerializer,
)
from exampulse.api import respond
from exampulse.errors import DomainError


class InvalidCredentials(DomainError):
    status_code = 401
    code = "invalid_credentials"
    # One message for unknown email and wrong password alike: no account enumeration.
    default_message = "Invalid email or password."


class InvalidToken(DomainError):
    status_code = 401
    code = "token_not_valid"
    default_message = "The token is invalid, expired or revoked."


class RegisterApi(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list = []
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "register"

    @extend_schema(request=RegisterInputSerializer, responses={201: UserOutputSerializer})
    def post(self, request):
        serializer = RegisterInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = services.user_register(**serializer.validated_data)
        return respond(
            {"user": UserOutputSerializer(user).data},
            message="Registered. Log in to receive a token.",
            status_code=status.HTTP_201_CREATED,
        )


class LoginApi(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list = []
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "login"

    @extend_schema(request=LoginInputSerializer, responses={200: UserOutputSerializer})
    def post(self, request):
        serializer = LoginInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = authenticate(
            request,
            username=serializer.validated_data["email"].lower(),
            password=serializer.validated_data["password"],
        )
        if user is None:
            raise InvalidCredentials()
        tokens = services.tokens_issue(user=user)
        return respond({"user": UserOutputSerializer(user).data}, message="Logged in.", extra=tokens)


class RefreshApi(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list = []

    @extend_schema(request=RefreshInputSerializer, responses={200: None})
    def post(self, request):
        RefreshInputSerializer(data=request.data).is_valid(raise_exception=True)
        serializer = TokenRefreshSerializer(data=request.data)
        try:
            serializer.is_valid(raise_exception=True)
        except TokenError as exc:
            raise InvalidToken() from exc
        data = serializer.validated_data
        return respond(
            None, message="Token refreshed.", extra={"token": data["access"], "refresh": data.get("refresh")}
        )


class LogoutApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(request=RefreshInputSerializer, responses={200: None})
    def post(self, request):
        serializer = RefreshInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            token = RefreshToken(serializer.validated_data["refresh"])
        except TokenError as exc:
            raise InvalidToken() from exc
        if str(token.get("user_id")) != str(request.user.pk):
            raise InvalidToken("That refresh token does not belong to you.")
        token.blacklist()
        return respond(None, message="Logged out. The refresh token is revoked.")


class MeApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses={200: UserOutputSerializer})
    def get(self, request):
        return respond({"user": UserOutputSerializer(request.user).data})


class UpdateProfileApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(request=ProfileInputSerializer, responses={200: UserOutputSerializer})
    def put(self, request):
        return self._update(request)

    @extend_schema(request=ProfileInputSerializer, responses={200: UserOutputSerializer})
    def patch(self, request):
        return self._update(request)

    def _update(self, request):
        serializer = ProfileInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = services.user_update_profile(user=request.user, data=serializer.validated_data)
        return respond({"user": UserOutputSerializer(user).data}, message="Profile updated.")
