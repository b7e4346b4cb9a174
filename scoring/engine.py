"""The spec's risk rules, exactly as docs/design.md "Risk scoring" states them. Pure: no Django, clock or settings.

risk = 0.2·typing + 0.3·tab_switch + 0.15·mouse + 0.2·answer_speed + 0.15·focus, each in [0, 1].
Ratios are rounded to 9 decimals before comparison so that float noise (0.49999999999) never moves a
value across a boundary; the risk is rounded to 4 decimals, and integrity rounds half up.
"""

from __future__ import annotations

from functools import lru_cache

from scoring.types import RISK_SIGNALS, BaselineStats, Component, Policy, RiskScore, Signals

# The formula's weights, in its order (scoring.types.RISK_SIGNALS declares them).
WEIGHTS = {signal.name: signal.weight for signal in RISK_SIGNALS}
ALERT_THRESHOLDS = {"low": 0.85, "medium": 0.7, "high": 0.5}
MEDIUM_FROM = 0.3
HIGH_FROM = 0.7

REASON_EXEMPT = "exempt by accommodation"
REASON_ALLOWED = "allowed by exam policy"
REASON_NO_BASELINE = "no baseline yet"


def alert_threshold(sensitivity: str) -> float:
    """The risk at which an exam of this sensitivity raises an alert (unknown values: medium)."""
    return ALERT_THRESHOLDS.get(sensitivity, ALERT_THRESHOLDS["medium"])


def level_for(risk: float) -> str:
    """low < 0.3 <= medium < 0.7 <= high."""
    if risk >= HIGH_FROM:
        return "high"
    if risk >= MEDIUM_FROM:
        return "medium"
    return "low"


def integrity_for(risk: float) -> int:
    """round(100 * (1 - risk)), half up, in exact integer ten-thousandths so 0.105 gives 90, not 89."""
    remaining = 10_000 - round(risk * 10_000)
    return (remaining + 50) // 100


def _fmt(value: float) -> str:
    return f"{value:.4g}"


def _pct(ratio: float) -> str:
    return f"{ratio * 100:.0f}%"


def _baseline_missing(baseline: BaselineStats | None, base: float | None) -> str | None:
    """Why a baseline-relative rule cannot run, or None when it can."""
    if baseline is None:
        return REASON_NO_BASELINE
    # No readiness check: the rules compare against the baseline's means from its first sample (the
    # spec's flow: one calibration, then the exam). Only the anomaly detector waits for more samples.
    if base is None or base <= 0:
        return "no baseline for this signal"
    return None


def _typing(wpm: float | None, baseline: BaselineStats | None) -> tuple[float, str, float | None, float | None]:
    if wpm is None:
        return 0.0, "no typing samples yet", None, None
    base = baseline.typing_speed_wpm if baseline else None
    missing = _baseline_missing(baseline, base)
    if missing:
        return 0.0, missing, None, None
    d = round(abs(wpm - base) / base, 9)
    what = f"typing {_fmt(wpm)} wpm vs baseline {_fmt(base)} wpm: deviation {_pct(d)}"
    if d > 1.0:
        return 0.9, f"{what} > 100%", base, d
    if d >= 0.5:
        return 0.6, f"{what}, between 50% and 100%", base, d
    return 0.0, f"{what} < 50%", base, d


def _tab_switch(n: int) -> tuple[float, str, float | None, float | None]:
    if n == 0:
        return 0.0, "no tab switches", None, None
    noun = "tab switch" if n == 1 else "tab switches"
    if n > 10:
        return 1.0, f"{n} {noun} > 10", None, None
    if n >= 5:
        return 0.8, f"{n} {noun}, between 5 and 10", None, None
    if n >= 2:
        return 0.5, f"{n} {noun}, between 2 and 4", None, None
    return 0.0, f"{n} {noun} < 2", None, None


def _mouse(speed: float | None, baseline: BaselineStats | None) -> tuple[float, str, float | None, float | None]:
    if speed is None:
        return 0.0, "no mouse samples yet", None, None
    base = baseline.mouse_speed_pxs if baseline else None
    missing = _baseline_missing(baseline, base)
    if missing:
        return 0.0, missing, None, None
    r = round(speed / base, 9)
    what = f"mouse {_fmt(speed)} px/s is {_pct(r)} of baseline {_fmt(base)} px/s"
    if r < 0.3:
        return 0.7, f"{what} (< 30%: unusually still)", base, r
    if abs(r - 1) > 0.5:
        return 0.4, f"{what} (deviation > 50%)", base, r
    return 0.0, f"{what} (within 50%)", base, r


def _answer_speed(avg: float | None, baseline: BaselineStats | None) -> tuple[float, str, float | None, float | None]:
    if avg is None:
        return 0.0, "no answered questions yet", None, None
    base = baseline.avg_question_time_sec if baseline else None
    missing = _baseline_missing(baseline, base)
    if missing:
        return 0.0, missing, None, None
    r = round(avg / base, 9)
    what = f"{_fmt(avg)} s per question is {_pct(r)} of baseline {_fmt(base)} s"
    if r < 0.3:
        return 0.8, f"{what} (< 30%: too fast)", base, r
    if r > 3.0:
        return 0.6, f"{what} (> 300%: too slow)", base, r
    return 0.0, f"{what} (between 30% and 300%)", base, r


def _focus(s: float) -> tuple[float, str, float | None, float | None]:
    if s == 0:
        return 0.0, "no time away from the exam window", None, None
    what = f"{_fmt(s)} s away from the exam window"
    if s > 120:
        return 0.9, f"{what} > 120 s", None, None
    if s > 60:
        return 0.6, f"{what}, over 60 s up to 120 s", None, None
    if s >= 30:
        return 0.3, f"{what}, between 30 and 60 s", None, None
    return 0.0, f"{what} < 30 s", None, None


def _inputs(signals: Signals) -> tuple[float | None, int, float | None, float | None, float]:
    return (
        signals.wpm,
        signals.tab_switches,
        signals.mouse_speed_pxs,
        signals.avg_question_time_sec,
        signals.blur_seconds,
    )


# Components are immutable and depend only on these arguments, so consecutive events (which usually
# move one signal) reuse the other four: the live path scores after every event.
@lru_cache(maxsize=16384)
def _component(
    name: str, measured: float | None, baseline: BaselineStats | None, exempt: bool, allowed: bool
) -> Component:
    weight = WEIGHTS[name]
    shown = float(measured) if name == "tab_switch" else measured
    if exempt:
        return Component(name, 0.0, weight, REASON_EXEMPT, shown)
    if allowed:
        return Component(name, 0.0, weight, REASON_ALLOWED, shown)
    if name == "typing":
        value, reason, base, ratio = _typing(measured, baseline)
    elif name == "tab_switch":
        value, reason, base, ratio = _tab_switch(measured)
    elif name == "mouse":
        value, reason, base, ratio = _mouse(measured, baseline)
    elif name == "answer_speed":
        value, reason, base, ratio = _answer_speed(measured, baseline)
    else:
        value, reason, base, ratio = _focus(measured)
    return Component(name, value, weight, reason, shown, base, ratio)


def score(*, signals: Signals, baseline: BaselineStats | None, policy: Policy) -> RiskScore:
    """The session's risk per the spec formula, with its level, integrity and explained components."""
    exempt = policy.exempt_signals
    components = tuple(
        _component(
            name,
            measured,
            # Tab switching and focus never read the baseline: keep it out of their cache key.
            None if name in ("tab_switch", "focus") else baseline,
            name in exempt,
            name == "tab_switch" and policy.allow_tab_switch,
        )
        for name, measured in zip(WEIGHTS, _inputs(signals), strict=True)
    )
    risk = round(sum(item.value * item.weight for item in components), 4)
    threshold = alert_threshold(policy.sensitivity)
    return RiskScore(
        risk_score=risk,
        risk_level=level_for(risk),
        integrity_score=integrity_for(risk),
        components=components,
        alert_threshold=threshold,
        reaches_threshold=risk >= threshold,
    )
