"""The risk engine's value types: frozen, plain, JSON-able. No Django here (an import contract checks)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class RiskSignal:
    """One of the spec's risk signals: its name (in risk_components and exempt_signals), its weight in
    the formula and how the review console labels it."""

    name: str
    weight: float
    label: str


# The spec's five signals, in the order the formula lists them: declared here once. The engine's
# weights, the review console's rows and the accommodations' exemptable signals are derived from it
# (accounts cannot import scoring, so a test pins its copy equal).
RISK_SIGNALS = (
    RiskSignal("typing", 0.2, "Typing speed"),
    RiskSignal("tab_switch", 0.3, "Tab switches"),
    RiskSignal("mouse", 0.15, "Mouse speed"),
    RiskSignal("answer_speed", 0.2, "Answer speed"),
    RiskSignal("focus", 0.15, "Time away (blur)"),
)


@dataclass(frozen=True, slots=True)
class Signals:
    """A session's measured behaviour, as the engine reads it (None: no events of that kind yet)."""

    wpm: float | None = None
    mouse_speed_pxs: float | None = None
    avg_question_time_sec: float | None = None
    tab_switches: int = 0
    blur_seconds: float = 0.0
    # Keystroke timing: not in the rule formula, read by the per-student anomaly detector.
    key_hold_ms: float | None = None
    key_latency_ms: float | None = None
    typing_samples: int = 0
    mouse_samples: int = 0
    questions_answered: int = 0
    focus_returns: int = 0
    # copy/paste/cut/right_click/...: counted for review and the population model, never in the formula.
    other_counts: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class BaselineStats:
    """The student's baseline means the rules compare against (from the first sample); `ready` once the
    anomaly detector has enough samples to fit."""

    typing_speed_wpm: float | None = None
    mouse_speed_pxs: float | None = None
    avg_question_time_sec: float | None = None
    sample_count: int = 0
    ready: bool = True
    ready_after: int = 0


@dataclass(frozen=True, slots=True)
class Policy:
    """What the exam allows and what the student is exempted from."""

    allow_tab_switch: bool = False
    allow_copy_paste: bool = False
    sensitivity: str = "medium"
    exempt_signals: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Component:
    """One signal's contribution: its value in [0, 1], its weight, and why."""

    name: str
    value: float
    weight: float
    reason: str
    # What the rule compared: the measured input, the baseline, the derived ratio (None when not computed).
    measured: float | None = None
    base: float | None = None
    ratio: float | None = None

    @property
    def weighted(self) -> float:
        return round(self.value * self.weight, 6)

    def as_dict(self) -> dict[str, Any]:
        return {
            "value": self.value,
            "weight": self.weight,
            "weighted": self.weighted,
            "reason": self.reason,
            "measured": self.measured,
            "base": self.base,
            "ratio": self.ratio,
        }


@dataclass(frozen=True, slots=True)
class RiskScore:
    """The spec formula's result with every component explained."""

    risk_score: float
    risk_level: str
    integrity_score: int
    components: tuple[Component, ...]
    alert_threshold: float
    reaches_threshold: bool

    @property
    def level(self) -> str:
        return self.risk_level

    def component(self, name: str) -> Component:
        for item in self.components:
            if item.name == name:
                return item
        raise KeyError(name)

    def as_dict(self) -> dict[str, Any]:
        return {
            "risk_score": self.risk_score,
            "risk_level": self.risk_level,
            "integrity_score": self.integrity_score,
            "alert_threshold": self.alert_threshold,
            "reaches_threshold": self.reaches_threshold,
            "components": {item.name: item.as_dict() for item in self.components},
        }
