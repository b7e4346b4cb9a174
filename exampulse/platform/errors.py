"""The one base class for domain errors, shared by REST and the WebSocket consumer."""

from __future__ import annotations


class DomainError(Exception):
    """A refused operation with a stable machine code and a message a person can act on.

    REST maps it to `{"error": message, "details": details}` with `status_code`; the
    consumer maps it to an `error {message, code}` frame.
    """

    status_code: int = 400
    code: str = "invalid"
    default_message: str = "The request could not be completed."

    def __init__(self, message: str | None = None, *, details: dict | None = None) -> None:
        self.message = message or self.default_message
        self.details = details or {}
        super().__init__(self.message)


class NotFound(DomainError):
    status_code = 404
    code = "not_found"
    default_message = "Not found."


class Forbidden(DomainError):
    status_code = 403
    code = "forbidden"
    default_message = "You do not have permission to do that."


class Conflict(DomainError):
    status_code = 409
    code = "conflict"
    default_message = "The request conflicts with the current state."
