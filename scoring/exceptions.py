"""Scoring's domain errors; the global handler maps them to {"error", "details"} (details carry the code)."""

from __future__ import annotations

from exampulse.platform.errors import Conflict, DomainError, NotFound


class _Coded(DomainError):
    """REST's `{"error", "details"}` envelope carries no code, so details does."""

    def __init__(self, message: str | None = None, *, details: dict | None = None) -> None:
        super().__init__(message, details={"code": self.code, **(details or {})})


class BaselineNotFound(NotFound):
    code = "baseline_not_found"
    default_message = "This user has no baseline."


class BaselineSessionOpen(_Coded, Conflict):
    code = "session_open"
    default_message = (
        "Your baseline cannot change while you have an exam in progress: a session is scored against "
        "the baseline as it stood when it started. Add samples after you submit."
    )


class BaselineDailyLimit(_Coded):
    status_code = 429
    code = "baseline_daily_limit"
    default_message = "You have added as many baseline samples as one day allows; try again tomorrow."
