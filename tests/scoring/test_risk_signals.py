"""The five risk signals are declared once (scoring.types.RISK_SIGNALS); everything else derives from it."""

from __future__ import annotations

from monitoring.review.selectors import COMPONENT_LABELS, COMPONENT_ORDER
from scoring import engine
from scoring.types import RISK_SIGNALS, Policy, Signals

NAMES = ("typing", "tab_switch", "mouse", "answer_speed", "focus")


def test_the_spec_formula_is_declared_once():
    # DESIGN.md: risk = 0.2·typing + 0.3·tab_switch + 0.15·mouse + 0.2·answer_speed + 0.15·focus
    assert [(s.name, s.weight) for s in RISK_SIGNALS] == [
        ("typing", 0.2),
        ("tab_switch", 0.3),
        ("mouse", 0.15),
        ("answer_speed", 0.2),
        ("focus", 0.15),
    ]
    assert sum(s.weight for s in RISK_SIGNALS) == 1.0


def test_the_engine_and_the_review_console_derive_from_it():
    assert {s.name: s.weight for s in RISK_SIGNALS} == engine.WEIGHTS
    assert COMPONENT_ORDER == NAMES
    assert set(COMPONENT_LABELS) == set(NAMES) and all(COMPONENT_LABELS.values())
    risk = engine.score(signals=Signals(), baseline=None, policy=Policy())
    assert tuple(c.name for c in risk.components) == NAMES
    assert [c.weight for c in risk.components] == [s.weight for s in RISK_SIGNALS]
