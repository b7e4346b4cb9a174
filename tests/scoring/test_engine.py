"""The spec's rules at and on both sides of every boundary (plain pytest, no database)."""

from __future__ import annotations

import json

import pytest

from scoring.engine import alert_threshold, integrity_for, level_for, score
from scoring.types import BaselineStats, Policy, Signals

BASE = BaselineStats(typing_speed_wpm=40.0, mouse_speed_pxs=200.0, avg_question_time_sec=60.0, sample_count=5)
POLICY = Policy()


def _component(signals: Signals, *, baseline=BASE, policy=POLICY, name: str):
    return score(signals=signals, baseline=baseline, policy=policy).component(name)


@pytest.mark.parametrize(
    ("wpm", "expected"),
    [
        (40.0, 0.0),  # d = 0
        (59.96, 0.0),  # d = 0.499
        (60.0, 0.6),  # d = 0.5
        (20.0, 0.6),  # d = 0.5 below the baseline
        (60.04, 0.6),  # d = 0.501
        (80.0, 0.6),  # d = 1.0
        (80.04, 0.9),  # d = 1.001
        (0.0, 0.6),  # d = 1.0 (stopped typing)
        (200.0, 0.9),
    ],
)
def test_typing_deviation_boundaries(wpm, expected):
    assert _component(Signals(wpm=wpm), name="typing").value == expected


@pytest.mark.parametrize(
    ("n", "expected"),
    [(0, 0.0), (1, 0.0), (2, 0.5), (4, 0.5), (5, 0.8), (10, 0.8), (11, 1.0), (50, 1.0)],
)
def test_tab_switch_count_boundaries(n, expected):
    assert _component(Signals(tab_switches=n), name="tab_switch").value == expected


@pytest.mark.parametrize(
    ("speed", "expected"),
    [
        (59.8, 0.7),  # r = 0.299
        (60.0, 0.4),  # r = 0.3: not < 0.3, but |r - 1| = 0.7 > 0.5
        (99.8, 0.4),  # r = 0.499
        (100.0, 0.0),  # r = 0.5: |r - 1| = 0.5 is not > 0.5
        (200.0, 0.0),
        (300.0, 0.0),  # r = 1.5
        (300.2, 0.4),  # r = 1.501
        (0.0, 0.7),
    ],
)
def test_mouse_ratio_boundaries(speed, expected):
    assert _component(Signals(mouse_speed_pxs=speed), name="mouse").value == expected


@pytest.mark.parametrize(
    ("avg", "expected"),
    [
        (17.94, 0.8),  # r = 0.299
        (18.0, 0.0),  # r = 0.3
        (60.0, 0.0),
        (180.0, 0.0),  # r = 3.0
        (180.06, 0.6),  # r = 3.001
    ],
)
def test_answer_speed_ratio_boundaries(avg, expected):
    assert _component(Signals(avg_question_time_sec=avg), name="answer_speed").value == expected


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [
        (0.0, 0.0),
        (29.999, 0.0),
        (30.0, 0.3),
        (60.0, 0.3),
        (60.001, 0.6),
        (120.0, 0.6),
        (120.001, 0.9),
    ],
)
def test_focus_blur_seconds_boundaries(seconds, expected):
    assert _component(Signals(blur_seconds=seconds), name="focus").value == expected


@pytest.mark.parametrize(
    ("risk", "level"),
    [(0.0, "low"), (0.2999, "low"), (0.3, "medium"), (0.6999, "medium"), (0.7, "high"), (1.0, "high")],
)
def test_level_boundaries(risk, level):
    assert level_for(risk) == level


@pytest.mark.parametrize(("sensitivity", "threshold"), [("low", 0.85), ("medium", 0.7), ("high", 0.5), ("bogus", 0.7)])
def test_alert_threshold_per_sensitivity(sensitivity, threshold):
    assert alert_threshold(sensitivity) == threshold


@pytest.mark.parametrize(("risk", "integrity"), [(0.0, 100), (1.0, 0), (0.105, 90), (0.045, 96), (0.42, 58), (0.7, 30)])
def test_integrity_is_rounded_half_up(risk, integrity):
    assert integrity_for(risk) == integrity


def test_weights_combine_into_the_spec_formula():
    signals = Signals(wpm=100.0, tab_switches=11, mouse_speed_pxs=10.0, avg_question_time_sec=5.0, blur_seconds=200)
    result = score(signals=signals, baseline=BASE, policy=POLICY)
    # 0.2·0.9 + 0.3·1.0 + 0.15·0.7 + 0.2·0.8 + 0.15·0.9
    assert result.risk_score == 0.88
    assert result.risk_level == "high"
    assert result.integrity_score == 12


def test_risk_exactly_at_a_level_boundary_is_not_lost_to_float_noise():
    # 0.2·0.9 + 0.3·1.0 + 0.15·0.4 + 0.2·0.8 = 0.7 exactly (0.7000000000000001 in naive float addition)
    signals = Signals(wpm=100.0, tab_switches=11, mouse_speed_pxs=60.0, avg_question_time_sec=5.0)
    result = score(signals=signals, baseline=BASE, policy=Policy(sensitivity="medium"))
    assert result.risk_score == 0.7
    assert result.risk_level == "high"
    assert result.reaches_threshold is True


@pytest.mark.parametrize(
    ("tab_switches", "sensitivity", "reaches"),
    [
        (11, "low", False),  # 0.615 < 0.85
        (11, "medium", False),  # 0.615 < 0.7
        (11, "high", True),  # 0.615 >= 0.5
        (4, "high", False),  # 0.465 < 0.5
        (5, "high", True),  # 0.555 >= 0.5
    ],
)
def test_reaching_the_alert_threshold_depends_on_sensitivity(tab_switches, sensitivity, reaches):
    signals = Signals(wpm=100.0, tab_switches=tab_switches, blur_seconds=200)
    result = score(signals=signals, baseline=BASE, policy=Policy(sensitivity=sensitivity))
    assert result.reaches_threshold is reaches
    assert result.alert_threshold == {"low": 0.85, "medium": 0.7, "high": 0.5}[sensitivity]


def test_a_signal_with_no_events_scores_zero_and_says_so():
    result = score(signals=Signals(), baseline=BASE, policy=POLICY)
    assert result.risk_score == 0.0
    assert result.risk_level == "low"
    assert result.integrity_score == 100
    assert result.component("typing").reason == "no typing samples yet"
    assert result.component("mouse").reason == "no mouse samples yet"
    assert result.component("answer_speed").reason == "no answered questions yet"


def test_no_baseline_zeroes_the_baseline_relative_signals_but_not_tab_switches():
    signals = Signals(wpm=200.0, mouse_speed_pxs=1.0, avg_question_time_sec=1.0, tab_switches=12, blur_seconds=90)
    result = score(signals=signals, baseline=None, policy=POLICY)
    for name in ("typing", "mouse", "answer_speed"):
        assert result.component(name).value == 0.0
        assert result.component(name).reason == "no baseline yet"
    assert result.component("tab_switch").value == 1.0
    assert result.component("tab_switch").reason == "12 tab switches > 10"
    assert result.component("focus").value == 0.6


def test_the_rules_use_a_baseline_from_its_first_sample():
    collecting = BaselineStats(typing_speed_wpm=40.0, sample_count=1, ready=False, ready_after=3)
    component = _component(Signals(wpm=200.0), baseline=collecting, name="typing")
    assert component.value == 0.9
    assert component.reason == "typing 200 wpm vs baseline 40 wpm: deviation 400% > 100%"


def test_a_baseline_missing_one_field_zeroes_only_that_signal():
    partial = BaselineStats(typing_speed_wpm=40.0, sample_count=3)
    result = score(signals=Signals(wpm=200.0, mouse_speed_pxs=1.0), baseline=partial, policy=POLICY)
    assert result.component("typing").value == 0.9
    assert result.component("mouse").value == 0.0
    assert result.component("mouse").reason == "no baseline for this signal"


@pytest.mark.parametrize("name", ["typing", "tab_switch", "mouse", "answer_speed", "focus"])
def test_exempt_signal_scores_zero_and_says_why(name):
    signals = Signals(wpm=200.0, mouse_speed_pxs=1.0, avg_question_time_sec=1.0, tab_switches=12, blur_seconds=500)
    exempt = score(signals=signals, baseline=BASE, policy=Policy(exempt_signals=frozenset({name})))
    full = score(signals=signals, baseline=BASE, policy=POLICY)
    assert exempt.component(name).value == 0.0
    assert exempt.component(name).reason == "exempt by accommodation"
    assert exempt.risk_score == round(full.risk_score - full.component(name).weighted, 4)


def test_allowed_tab_switching_scores_zero_and_says_why():
    result = score(signals=Signals(tab_switches=12), baseline=BASE, policy=Policy(allow_tab_switch=True))
    assert result.component("tab_switch").value == 0.0
    assert result.component("tab_switch").reason == "allowed by exam policy"
    assert result.risk_score == 0.0


def test_allowing_copy_paste_does_not_change_the_score():
    signals = Signals(tab_switches=3, other_counts={"copy": 5, "paste": 5})
    allowed = score(signals=signals, baseline=BASE, policy=Policy(allow_copy_paste=True))
    forbidden = score(signals=signals, baseline=BASE, policy=Policy(allow_copy_paste=False))
    assert allowed.as_dict() == forbidden.as_dict()


def test_reasons_are_human_readable():
    signals = Signals(wpm=100.0, mouse_speed_pxs=50.0, avg_question_time_sec=200.0, blur_seconds=45)
    result = score(signals=signals, baseline=BASE, policy=POLICY)
    assert result.component("typing").reason == "typing 100 wpm vs baseline 40 wpm: deviation 150% > 100%"
    assert result.component("mouse").reason == "mouse 50 px/s is 25% of baseline 200 px/s (< 30%: unusually still)"
    assert result.component("answer_speed").reason == "200 s per question is 333% of baseline 60 s (> 300%: too slow)"
    assert result.component("focus").reason == "45 s away from the exam window, between 30 and 60 s"


def test_score_serialises_to_json_with_every_component():
    result = score(signals=Signals(wpm=60.0, tab_switches=3), baseline=BASE, policy=POLICY)
    body = json.loads(json.dumps(result.as_dict()))
    assert set(body["components"]) == {"typing", "tab_switch", "mouse", "answer_speed", "focus"}
    assert body["components"]["typing"] == {
        "value": 0.6,
        "weight": 0.2,
        "weighted": 0.12,
        "reason": "typing 60 wpm vs baseline 40 wpm: deviation 50%, between 50% and 100%",
        "measured": 60.0,
        "base": 40.0,
        "ratio": 0.5,
    }
    assert body["risk_score"] == 0.27
    assert body["risk_level"] == "low"
    assert body["integrity_score"] == 73
