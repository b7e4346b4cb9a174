"""Frame parsing and activity validation: every refusal names a code; valid payloads are kept."""

from __future__ import annotations

import json

import pytest

from exampulse.json_limits import MAX_JSON_DEPTH
from monitoring.ingest.activity import FrameError, parse_activity
from monitoring.live.frames import parse_frame
from scoring.severity import severity_for

LIMIT = 64 * 1024


def code_of(callable_, *args, **kwargs) -> str:
    with pytest.raises(FrameError) as info:
        callable_(*args, **kwargs)
    return info.value.code


@pytest.mark.parametrize(
    ("text", "code"),
    [
        (None, "binary_not_supported"),
        ("{not json", "bad_json"),
        ("[1, 2]", "bad_frame"),
        ('"ping"', "bad_frame"),
        ('{"data": {}}', "bad_frame"),
        ('{"event": 5}', "bad_frame"),
        ('{"event": "ping", "data": [1]}', "bad_frame"),
        ('{"event": "hack_the_planet"}', "unknown_event"),
        ("[" * 100_000 + "]" * 100_000, "frame_too_large"),
    ],
)
def test_bad_frames_are_refused_with_a_code(text, code):
    assert code_of(parse_frame, text, max_bytes=LIMIT) == code


def test_deep_nesting_under_the_size_limit_is_too_deep_not_a_crash():
    assert code_of(parse_frame, "[" * 20_000 + "]" * 20_000, max_bytes=LIMIT) == "too_deep"


@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH + 1, 500, 5_000])
def test_nesting_past_the_depth_limit_is_refused_even_when_the_decoder_copes(depth):
    text = '{"event": "ping", "data": {"x": ' + "[" * depth + "]" * depth + "}}"
    assert code_of(parse_frame, text, max_bytes=LIMIT) == "too_deep"


def test_nesting_within_the_depth_limit_parses():
    depth = MAX_JSON_DEPTH - 2  # the frame object and "data" are two levels
    parsed = parse_frame('{"event": "ping", "data": {"x": ' + "[" * depth + "]" * depth + "}}", max_bytes=LIMIT)
    assert parsed.name == "ping"


def test_a_valid_frame_parses():
    parsed = parse_frame(json.dumps({"event": "join_exam", "data": {"exam_id": 3}}), max_bytes=LIMIT)
    assert parsed.name == "join_exam"
    assert parsed.data == {"exam_id": 3}


def test_missing_data_means_empty_data():
    assert parse_frame('{"event": "ping"}', max_bytes=LIMIT).data == {}


@pytest.mark.parametrize(
    ("data", "code"),
    [
        ({"exam_id": 1}, "invalid_payload"),
        ({"exam_id": 1, "type": "teleport"}, "unknown_activity_type"),
        ({"type": "tab_switch"}, "invalid_payload"),
        ({"exam_id": "x", "type": "tab_switch"}, "invalid_payload"),
        ({"exam_id": True, "type": "tab_switch"}, "invalid_payload"),
        ({"exam_id": 1, "type": "typing_sample"}, "invalid_payload"),
        ({"exam_id": 1, "type": "typing_sample", "wpm": -5}, "invalid_payload"),
        ({"exam_id": 1, "type": "typing_sample", "wpm": "fast"}, "invalid_payload"),
        ({"exam_id": 1, "type": "typing_sample", "wpm": 40, "hold_times_ms": "x"}, "invalid_payload"),
        ({"exam_id": 1, "type": "typing_sample", "wpm": 40, "hold_times_ms": [1] * 1000}, "invalid_payload"),
        ({"exam_id": 1, "type": "mouse_sample", "speed_pxs": float("inf")}, "invalid_payload"),
        ({"exam_id": 1, "type": "question_answered", "time_spent_sec": 5}, "invalid_payload"),
        ({"exam_id": 1, "type": "question_answered", "question_id": "q1"}, "invalid_payload"),
        ({"exam_id": 1, "type": "window_focus", "blur_duration_ms": -1}, "invalid_payload"),
        ({"exam_id": 1, "type": "tab_switch", "client_event_id": "has spaces"}, "invalid_payload"),
        ({"exam_id": 1, "type": "tab_switch", "client_event_id": "x" * 65}, "invalid_payload"),
        ({"exam_id": 1, "type": "tab_switch", "client_ts": "yesterday"}, "invalid_payload"),
        ({"exam_id": 1, "type": "tab_switch", "visibility": "x" * 300}, "invalid_payload"),
        ({"exam_id": 1, "type": "capability_unavailable", "capability": {"a": 1}}, "invalid_payload"),
        ({"exam_id": 1, "type": "tab_switch", **{f"k{i}": i for i in range(40)}}, "invalid_payload"),
    ],
)
def test_bad_activities_are_refused_with_a_code(data, code):
    assert code_of(parse_activity, data) == code


def test_a_typing_sample_keeps_its_timing_features_and_drops_nothing_else():
    activity = parse_activity(
        {
            "exam_id": 4,
            "type": "typing_sample",
            "wpm": 42.5,
            "hold_ms_mean": 95,
            "latency_ms_mean": 180,
            "hold_times_ms": [90, 100],
            "client_event_id": "c-1",
            "client_ts": 1_700_000_000_000,
        }
    )
    assert activity.exam_id == 4
    assert activity.payload == {"wpm": 42.5, "hold_ms_mean": 95, "latency_ms_mean": 180, "hold_times_ms": [90, 100]}
    assert activity.client_event_id == "c-1"
    assert activity.client_ts.year == 2023
    assert not activity.is_technical


def test_keys_the_catalogue_does_not_declare_are_dropped_whatever_they_hold():
    activity = parse_activity(
        {
            "exam_id": 4,
            "type": "tab_switch",
            "visibility": "hidden",
            "user_id": 1,
            "session_id": 25,
            "role": "proctor",
            "note": "x" * 300,
            "nested": {"a": 1},
            "wpm": 999,  # declared for typing_sample, not for tab_switch
        }
    )
    assert activity.payload == {"visibility": "hidden"}


def test_question_ids_are_kept_as_text():
    activity = parse_activity({"exam_id": 1, "type": "question_answered", "question_id": 3, "time_spent_sec": 12})
    assert activity.payload == {"question_id": "3", "time_spent_sec": 12}


def test_capability_unavailable_is_technical():
    assert parse_activity({"exam_id": 1, "type": "capability_unavailable", "capability": "fullscreen"}).is_technical


@pytest.mark.parametrize(
    ("event_type", "payload", "allow_tab", "allow_copy", "expected"),
    [
        ("tab_switch", {}, False, False, "medium"),
        ("tab_switch", {}, True, False, "low"),
        ("paste", {}, False, False, "high"),
        ("paste", {}, False, True, "low"),
        ("copy", {}, False, False, "medium"),
        ("window_focus", {"blur_duration_ms": 29_999}, False, False, "low"),
        ("window_focus", {"blur_duration_ms": 30_000}, False, False, "medium"),
        ("window_focus", {"blur_duration_ms": 120_000}, False, False, "high"),
        ("devtools_open", {}, False, False, "high"),
        ("typing_sample", {"wpm": 40}, False, False, "low"),
        ("disconnected", {}, False, False, "low"),
    ],
)
def test_severity_follows_type_and_exam_policy(event_type, payload, allow_tab, allow_copy, expected):
    assert severity_for(event_type, payload, allow_tab_switch=allow_tab, allow_copy_paste=allow_copy) == expected
