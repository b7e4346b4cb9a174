"""Domain errors of the auth API; `exampulse.platform.api.exception_handler` maps them to `{"error", "details"}`."""

from __future__ import annotations

from exampulse.platform.errors import DomainError, NotFound


class InvalidCredentials(DomainError):
    status_code = 401
    code = "invalid_credentials"
    # One message for unknown email and wrong password alike: no account enumeration.
    default_message = "Invalid email or password."


class LoginLockedOut(DomainError):
    """Too many recent failures on this account or from this address (accounts.throttling)."""

    status_code = 429
    code = "login_locked_out"
    default_message = "Too many failed login attempts. Try again later."


class InvalidToken(DomainError):
    status_code = 401
    code = "token_not_valid"
    default_message = "The token is invalid, expired or revoked."


class UserNotFound(NotFound):
    """No user (or, where only students qualify, no student) with that id: scoring's and users' APIs."""

    code = "user_not_found"
    default_message = "No such user."


class InvalidResetLink(DomainError):
    status_code = 400
    code = "invalid_reset_link"
    default_message = "This reset link is invalid or has expired."


class SuperuserOnly(DomainError):
    """An institution-wide decision (a student's accommodations everywhere, a baseline reset): superusers only.

    REST's envelope carries no code, so `details` does."""

    status_code = 403
    code = "superuser_only"
    default_message = "Only a superuser can do this: it applies to the student in every course."

    def __init__(self, message: str | None = None, *, details: dict | None = None) -> None:
        super().__init__(message, details={"code": self.code, **(details or {})})
