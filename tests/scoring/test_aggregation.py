"""Folding events: the live path (one at a time, through JSON) and the rescore path (bulk) agree exactly."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from scoring.aggregation import empty_state, fold, fold_all, signals_from
from scoring.catalogue import CATALOGUE

numbers = st.one_of(
    st.floats(min_value=-10, max_value=200_000),
    st.sampled_from([float("nan"), float("inf"), -float("inf")]),
    st.integers(min_value=-5, max_value=100_000),
    st.booleans(),
    st.text(max_size=3),
    st.none(),
)
question_ids = st.one_of(st.integers(0, 12), st.sampled_from(["q1", "q2", "3", "q4"]), st.booleans(), st.none())
payloads = st.fixed_dictionaries(
    {},
    optional={
        "wpm": numbers,
        "hold_ms_mean": numbers,
        "latency_ms_mean": numbers,
        "speed_pxs": numbers,
        "question_id": question_ids,
        "time_spent_sec": numbers,
        "blur_duration_ms": numbers,
        "unknown_key": numbers,
    },
)
# Every declared type (technical ones must be ignored by the fold) and two it must ignore as unknown.
event_types = st.sampled_from([*sorted(CATALOGUE), "disconnect", "made_up_type"])
streams = st.lists(st.tuples(event_types, st.one_of(payloads, st.none(), st.just([1, 2]))), max_size=60)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(event_types, st.one_of(payloads, st.none(), st.just([1, 2]))), min_size=1, max_size=60))
def test_incremental_fold_through_json_equals_bulk_fold(events):
    live = {}  # ExamSession.behaviour's default
    for event_type, data in events:
        # The live path stores the state as JSON after every event and reads it back.
        live = json.loads(json.dumps(fold(live, event_type, data)))
    bulk = fold_all(events)
    assert live == json.loads(json.dumps(bulk))
    assert signals_from(live) == signals_from(bulk)


@settings(max_examples=100, deadline=None)
@given(streams, streams)
def test_folding_in_two_halves_equals_folding_at_once(first, second):
    assert fold_all(second, fold_all(first)) == fold_all(first + second)


def test_fold_leaves_the_input_state_untouched():
    state = fold(None, "question_answered", {"question_id": "q1", "time_spent_sec": 10})
    before = json.dumps(state)
    fold(state, "question_answered", {"question_id": "q2", "time_spent_sec": 20})
    assert json.dumps(state) == before


def test_signals_follow_the_design_inputs():
    state = fold_all(
        [
            ("typing_sample", {"wpm": 40, "hold_ms_mean": 100, "latency_ms_mean": 200}),
            ("typing_sample", {"wpm": 50.5, "hold_ms_mean": 120}),
            ("mouse_sample", {"speed_pxs": 300}),
            ("mouse_sample", {"speed_pxs": 100}),
            ("question_answered", {"question_id": "q1", "time_spent_sec": 90}),
            ("question_answered", {"question_id": 2, "time_spent_sec": 30}),
            ("question_answered", {"question_id": "q1", "time_spent_sec": 10}),  # the latest per question counts
            ("tab_switch", {}),
            ("tab_switch", {}),
            ("window_focus", {"blur_duration_ms": 1500}),
            ("window_focus", {"blur_duration_ms": 2500}),
            ("paste", {}),
        ]
    )
    signals = signals_from(state)
    assert signals.wpm == 45.25
    assert signals.key_hold_ms == 110.0
    assert signals.key_latency_ms == 200.0
    assert signals.mouse_speed_pxs == 200.0
    assert signals.avg_question_time_sec == 20.0
    assert signals.questions_answered == 2
    assert signals.tab_switches == 2
    assert signals.blur_seconds == 4.0
    assert signals.other_counts == {"tab_switch": 2, "paste": 1}


def test_technical_and_unknown_events_and_bad_values_change_nothing():
    noise = [
        ("disconnect", {"wpm": 500}),
        ("reconnect", {}),
        ("typing_sample", {"wpm": "fast", "hold_ms_mean": True}),
        ("typing_sample", {"wpm": float("nan")}),
        ("typing_sample", {"wpm": -3}),
        ("typing_sample", {"wpm": 5000}),
        ("mouse_sample", {"speed_pxs": float("inf")}),
        ("question_answered", {"question_id": True, "time_spent_sec": 5}),
        ("question_answered", {"question_id": "x" * 65, "time_spent_sec": 5}),
        ("question_answered", {"question_id": "q1"}),
        ("window_focus", {"blur_duration_ms": "1000"}),
    ]
    signals = signals_from(fold_all(noise))
    assert signals.wpm is None
    assert signals.mouse_speed_pxs is None
    assert signals.avg_question_time_sec is None
    assert signals.blur_seconds == 0.0


def test_an_empty_state_has_no_signals():
    signals = signals_from(empty_state())
    assert signals == signals_from(None) == signals_from({})
    assert signals.wpm is None
    assert signals.tab_switches == 0
