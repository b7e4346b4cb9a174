"""Severity of one event, by type and the exam's policy. Severity never feeds the risk formula. Pure.

Each type's default severity, and the exam flag that makes it harmless, are in `scoring.catalogue`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from scoring import catalogue

# Seconds away from the exam window that make a single focus loss serious.
BLUR_MEDIUM_S = 30
BLUR_HIGH_S = 120
# A scored event of these severities counts as one of the session's flagged incidents
# (ExamSession.flagged_incidents_count): ingestion adds them up, a rescore counts them again.
INCIDENT_SEVERITIES = frozenset({"medium", "high"})


def severity_for(event_type: str, payload: Mapping[str, Any], *, allow_tab_switch: bool, allow_copy_paste: bool) -> str:
    """low | medium | high for one event; what the exam allows is low."""
    kind = catalogue.get(event_type)
    if kind is None or kind.category == catalogue.TECHNICAL:
        return "low"
    allowed = {catalogue.ALLOW_TAB_SWITCH: allow_tab_switch, catalogue.ALLOW_COPY_PASTE: allow_copy_paste}
    if kind.allowed_by and allowed[kind.allowed_by]:
        return "low"
    if event_type == "window_focus":
        blur_s = float(payload.get("blur_duration_ms") or 0) / 1000
        if blur_s >= BLUR_HIGH_S:
            return "high"
        return "medium" if blur_s >= BLUR_MEDIUM_S else "low"
    return kind.severity
