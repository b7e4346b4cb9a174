"""The documented accommodations shape is enforced wherever it is stored."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from accounts.accommodations import validate_accommodations


def test_valid_shape_is_normalised():
    clean = validate_accommodations(
        {"extra_time_pct": 50, "exempt_signals": ["typing", "typing", "mouse"], "note": "dyslexia"}
    )
    assert clean == {"extra_time_pct": 50, "exempt_signals": ["mouse", "typing"], "note": "dyslexia"}


@pytest.mark.parametrize(
    "value",
    [
        [],
        "fifty",
        {"extra_time_pct": "50"},
        {"extra_time_pct": True},
        {"extra_time_pct": -1},
        {"extra_time_pct": 401},
        {"extra_minutes": 1.5},
        {"exempt_signals": "typing"},
        {"exempt_signals": ["telepathy"]},
        {"note": 3},
        {"role": "proctor"},
    ],
)
def test_invalid_shapes_are_refused(value):
    with pytest.raises(ValidationError):
        validate_accommodations(value)


def test_the_exemptable_signals_are_scorings_risk_signals():
    # accounts sits under scoring and keeps its own copy: it must name exactly the formula's signals.
    from accounts.accommodations import EXEMPTABLE_SIGNALS
    from scoring.types import RISK_SIGNALS

    assert tuple(signal.name for signal in RISK_SIGNALS) == EXEMPTABLE_SIGNALS
