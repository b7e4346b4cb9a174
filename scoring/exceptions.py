"""Scoring's domain errors; the global handler maps them to {"error", "details"}."""

from __future__ import annotations

from exampulse.errors import NotFound


class BaselineNotFound(NotFound):
    code = "baseline_not_found"
    default_message = "This user has no baseline."
