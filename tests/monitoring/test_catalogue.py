"""One catalogue: the parser, the aggregation, severity, the timeline and the dashboard agree with it."""

from __future__ import annotations

import json
import re

import pytest
from django.test import Client

from monitoring.ingest import activity as activity_rules
from monitoring.ingest.activity import FrameError, parse_activity
from monitoring.pushes import SERVER_EVENTS
from monitoring.review.selectors import event_label
from scoring import aggregation, catalogue
from scoring.catalogue import CATALOGUE, ID, NUMBER, NUMBERS, TECHNICAL
from scoring.severity import severity_for
from tests.support.servers import ROOT

STATIC = ROOT / "monitoring" / "static"
ALL_TYPES = sorted(CATALOGUE)
CLIENT_TYPES = sorted(catalogue.CLIENT_TYPES)


def _required(event_type: str) -> dict:
    """A minimal valid payload: every required field at its lowest value."""
    data: dict = {"exam_id": 1, "type": event_type}
    for field in CATALOGUE[event_type].fields:
        if field.required:
            data[field.name] = "q1" if field.kind == ID else field.low
    return data


def _refused(data: dict) -> str:
    with pytest.raises(FrameError) as refused:
        parse_activity(data)
    return refused.value.code


def test_the_parser_accepts_exactly_the_types_clients_may_send():
    assert activity_rules.ACTIVITY_TYPES == catalogue.CLIENT_TYPES
    assert {name for name, kind in CATALOGUE.items() if kind.source == catalogue.CLIENT} == catalogue.CLIENT_TYPES
    for name in ALL_TYPES:
        if name in catalogue.CLIENT_TYPES:
            activity = parse_activity(_required(name))
            assert activity.is_technical == (CATALOGUE[name].category == TECHNICAL)
        else:  # recorded by the server only
            assert _refused({"exam_id": 1, "type": name}) == "unknown_activity_type"


@pytest.mark.parametrize(
    ("event_type", "field"),
    [(name, field) for name in CLIENT_TYPES for field in CATALOGUE[name].fields if field.kind != catalogue.TEXT],
    ids=lambda value: getattr(value, "name", value),
)
def test_the_parser_enforces_each_declared_field(event_type, field):
    data = _required(event_type)
    if field.kind == NUMBER:
        for edge in (field.low, field.high):
            assert parse_activity({**data, field.name: edge}).payload[field.name] == edge
        assert _refused({**data, field.name: field.high + 1}) == "invalid_payload"
        assert _refused({**data, field.name: field.low - 1}) == "invalid_payload"
    elif field.kind == NUMBERS:
        assert parse_activity({**data, field.name: [field.low, field.high]}).payload[field.name] == [0, field.high]
        assert _refused({**data, field.name: [field.high + 1]}) == "invalid_payload"
    elif field.kind == ID:
        assert parse_activity({**data, field.name: 7}).payload[field.name] == "7"
        assert _refused({**data, field.name: "x" * 65}) == "invalid_payload"
    if field.required:
        assert _refused({key: value for key, value in data.items() if key != field.name}) == "invalid_payload"


def test_the_aggregation_folds_the_scored_types_with_the_catalogue_ranges():
    assert {name for name, kind in CATALOGUE.items() if kind.category != TECHNICAL} == aggregation.SCORED_TYPES
    assert aggregation.SAMPLED_TYPES <= aggregation.SCORED_TYPES
    scored_fields = {
        field.name: (field.low, field.high)
        for kind in CATALOGUE.values()
        for field in kind.fields
        if field.scored and field.kind == NUMBER
    }
    assert scored_fields == aggregation.RANGES
    for name in ALL_TYPES:
        state = aggregation.fold(None, name, _required(name))
        assert state["events"] == (0 if CATALOGUE[name].category == TECHNICAL else 1), name


@pytest.mark.parametrize("event_type", ALL_TYPES)
def test_severity_defaults_and_policy_flags_come_from_the_catalogue(event_type):
    kind = CATALOGUE[event_type]
    assert severity_for(event_type, {}, allow_tab_switch=False, allow_copy_paste=False) == kind.severity
    if kind.allowed_by:
        flags = {"allow_tab_switch": False, "allow_copy_paste": False, kind.allowed_by: True}
        assert severity_for(event_type, {}, **flags) == "low"
    if kind.category == TECHNICAL:
        assert kind.severity == "low"


@pytest.mark.parametrize("event_type", ALL_TYPES)
def test_the_review_timeline_uses_the_catalogue_wording(event_type):
    kind = CATALOGUE[event_type]
    payload = {field.name: field.high if field.kind == NUMBER else "x" for field in kind.fields}
    label, detail = event_label(event_type, payload)
    assert "{" not in label and "{" not in detail
    if "{" not in kind.label:
        assert label == kind.label
    assert bool(detail) == bool(kind.detail)


@pytest.mark.django_db
def test_the_live_dashboard_page_is_served_the_catalogue(proctor, exam):
    client = Client()
    client.force_login(proctor)
    page = client.get(f"/monitor/exam/{exam.pk}/").content.decode()
    embedded = re.search(r'<script id="activity-catalogue" type="application/json">(.*?)</script>', page, re.S)
    assert embedded is not None
    assert json.loads(embedded.group(1)) == catalogue.as_json()


def test_dashboard_js_keeps_no_type_table_of_its_own():
    source = (STATIC / "monitoring" / "dashboard.js").read_text()
    assert 'getElementById("activity-catalogue")' in source
    # A server frame that shares its name with the event it records (hand_raised, hand_answered) is
    # a frame handler key there, not a type table; handlers are checked in test_frame_names.
    for name in sorted(set(ALL_TYPES) - SERVER_EVENTS):
        named = re.search(rf"[\"']{name}[\"']|\b{name}\s*:", source)
        assert named is None, f"dashboard.js names the activity type {name}; read it from the catalogue"


def test_the_browser_client_sends_the_client_types_within_the_catalogue_ranges():
    source = (STATIC / "exampulse" / "exampulse-client.js").read_text()
    assert set(re.findall(r'\.track\("([a-z_]+)"', source)) == catalogue.CLIENT_TYPES
    samples = re.search(r"var SAMPLE_TYPES = \{([^}]*)\}", source).group(1)
    assert set(re.findall(r"([a-z_]+): 1", samples)) <= catalogue.CLIENT_TYPES
    # The client clamps to these before sending; they must be the server's bounds.
    limits_block = re.search(r"var LIMITS = \{([^}]*)\}", source).group(1)
    limits = {key: float(value) for key, value in re.findall(r"(\w+): (\d+)", limits_block)}
    high = {
        f"{kind.name}.{field.name}": field.high
        for kind in CATALOGUE.values()
        for field in kind.fields
        if field.kind in (NUMBER, NUMBERS)
    }
    # One client bound each for a key's hold time and latency: the mean and the list share it.
    assert high["typing_sample.hold_ms_mean"] == high["typing_sample.hold_times_ms"]
    assert high["typing_sample.latency_ms_mean"] == high["typing_sample.latencies_ms"]
    assert limits == {
        "wpm": high["typing_sample.wpm"],
        "holdMs": high["typing_sample.hold_ms_mean"],
        "latencyMs": high["typing_sample.latency_ms_mean"],
        "speedPxs": high["mouse_sample.speed_pxs"],
        "timeSpentSec": high["question_answered.time_spent_sec"],
        "blurMs": high["window_focus.blur_duration_ms"],
        "listItems": activity_rules.MAX_LIST,
    }


def test_every_key_the_browser_client_sends_is_declared_so_none_is_dropped():
    source = (STATIC / "exampulse" / "exampulse-client.js").read_text()
    sent: dict[str, set[str]] = {}
    for event_type, body in re.findall(r'\.track\("([a-z_]+)", \{([^}]*)\}', source):
        sent.setdefault(event_type, set()).update(re.findall(r"(\w+):", body))
    # The samplers build their payloads apart: every key they set.
    typing = re.search(r"TypingSampler\.prototype\.take = function.*?\n  \};", source, re.S).group(0)
    sent["typing_sample"] = set(re.findall(r"^\s+(\w+): ", typing, re.M)) | set(re.findall(r"sample\.(\w+) =", typing))
    mouse = re.search(r"MouseSampler\.prototype\.take = function.*?\n  \};", source, re.S).group(0)
    sent["mouse_sample"] = set(re.findall(r"^\s+(\w+): ", mouse, re.M))
    assert sent["tab_switch"] == {"visibility"} and "wpm" in sent["typing_sample"], sent
    for event_type, keys in sent.items():
        declared = {field.name for field in CATALOGUE[event_type].fields}
        assert keys <= declared, f"{event_type}: the client sends {keys - declared}, which the server drops"
