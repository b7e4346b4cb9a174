"""Monitoring's domain errors; the global handler maps them to {"error", "details"}, the consumer to an error frame."""

from __future__ import annotations

from exampulse.platform.errors import Conflict


class SessionStillOpen(Conflict):
    code = "session_open"
    default_message = "The student has an exam in progress; erase their data after it ends."
