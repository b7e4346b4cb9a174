"""Severity of one event, by type and the exam's policy. Severity never feeds the risk formula."""

from __future__ import annotations

from typing import Any

from monitoring.frames import TECHNICAL_TYPES

# Seconds away from the exam window that make a single focus loss serious.
BLUR_MEDIUM_S = 30
BLUR_HIGH_S = 120

_BASE = {
    "tab_switch": "medium",
    "window_blur": "low",
    "right_click": "low",
    "fullscreen_exit": "medium",
    "devtools_open": "high",
    "typing_sample": "low",
    "mouse_sample": "low",
    "question_answered": "low",
}
_CLIPBOARD = frozenset({"copy", "paste", "cut"})


def severity_for(event_type: str, payload: dict[str, Any], *, allow_tab_switch: bool, allow_copy_paste: bool) -> str:
    """low | medium | high for one event; what the exam allows is low."""
    if event_type in TECHNICAL_TYPES:
        return "low"
    if event_type in _CLIPBOARD:
        if allow_copy_paste:
            return "low"
        return "high" if event_type == "paste" else "medium"
    if event_type == "tab_switch" and allow_tab_switch:
        return "low"
    if event_type == "window_focus":
        blur_s = float(payload.get("blur_duration_ms") or 0) / 1000
        if blur_s >= BLUR_HIGH_S:
            return "high"
        return "medium" if blur_s >= BLUR_MEDIUM_S else "low"
    return _BASE.get(event_type, "low")
