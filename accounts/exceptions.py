"""Domain errors of the auth API; `exampulse.api.exception_handler` maps them to `{"error", "details"}`."""

from __future__ import annotations

from exampulse.errors import DomainError, NotFound


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
