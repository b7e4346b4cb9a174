"""The accommodations JSON shape, validated in one place.

    {"extra_time_pct": 50, "extra_minutes": 10, "exempt_signals": ["typing"], "note": "..."}

Every key is optional. `extra_time_pct` and `extra_minutes` extend an exam's deadline;
`exempt_signals` names risk signals that score 0 for this student (see docs/design.md).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError

# The risk signals (scoring.types.RISK_SIGNALS declares them; accounts sits under scoring and cannot
# import it, so tests/accounts/test_accommodations_shape.py pins this copy equal).
EXEMPTABLE_SIGNALS = ("typing", "tab_switch", "mouse", "answer_speed", "focus")
MAX_EXTRA_TIME_PCT = 400
MAX_EXTRA_MINUTES = 24 * 60
MAX_NOTE_LENGTH = 1000
ALLOWED_KEYS = {"extra_time_pct", "extra_minutes", "exempt_signals", "note"}


def _bounded_int(value: Any, name: str, maximum: int) -> int:
    # bool is an int subclass; `true` is not a number of minutes.
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError({name: f"{name} must be a whole number."})
    if not 0 <= value <= maximum:
        raise ValidationError({name: f"{name} must be between 0 and {maximum}."})
    return value


def validate_accommodations(value: Any) -> dict[str, Any]:
    """Return a normalised accommodations dict or raise ValidationError saying what is wrong."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ValidationError("Accommodations must be a JSON object.")
    unknown = set(value) - ALLOWED_KEYS
    if unknown:
        raise ValidationError(
            f"Unknown accommodation keys: {', '.join(sorted(unknown))}. Allowed: {', '.join(sorted(ALLOWED_KEYS))}."
        )
    clean: dict[str, Any] = {}
    if "extra_time_pct" in value:
        clean["extra_time_pct"] = _bounded_int(value["extra_time_pct"], "extra_time_pct", MAX_EXTRA_TIME_PCT)
    if "extra_minutes" in value:
        clean["extra_minutes"] = _bounded_int(value["extra_minutes"], "extra_minutes", MAX_EXTRA_MINUTES)
    if "exempt_signals" in value:
        signals = value["exempt_signals"]
        if not isinstance(signals, list) or not all(isinstance(s, str) for s in signals):
            raise ValidationError({"exempt_signals": "exempt_signals must be a list of signal names."})
        bad = [s for s in signals if s not in EXEMPTABLE_SIGNALS]
        if bad:
            raise ValidationError(
                {"exempt_signals": f"Unknown signals: {', '.join(bad)}. Allowed: {', '.join(EXEMPTABLE_SIGNALS)}."}
            )
        clean["exempt_signals"] = sorted(set(signals))
    if "note" in value:
        note = value["note"]
        if not isinstance(note, str) or len(note) > MAX_NOTE_LENGTH:
            raise ValidationError({"note": f"note must be text of at most {MAX_NOTE_LENGTH} characters."})
        clean["note"] = note
    return clean
