"""One schema per server -> client frame (monitoring.frame_types), and the check the tests' sockets run.

Every frame a test socket receives (tests/monitoring/conftest.py `Socket.receive`, the daphne-level
helpers, the fault client, the browser tests' raw sockets) goes through `check_frame`; these tests
pin the schema table to the names the server sends and show what the check refuses.
"""

from __future__ import annotations

import typing

import pytest

from monitoring.frame_types import SCHEMAS, FrameSchemaError, check_frame
from monitoring.pushes import SERVER_EVENTS, frame


def test_every_frame_name_has_a_schema_and_every_schema_a_name():
    assert set(SCHEMAS) == SERVER_EVENTS
    for name, schema in SCHEMAS.items():
        assert typing.is_typeddict(schema), name
        assert schema.__required_keys__ <= set(typing.get_type_hints(schema)), name


def test_a_name_without_a_schema_cannot_be_built():
    with pytest.raises(ValueError, match="not a server -> client frame name"):
        frame("student_teleported", user_id=1)


GOOD = frame("proctor_warning", session_id=1, exam_id=2, message="stay", from_name="Ann", count=1, limit=None)


def test_a_frame_that_matches_its_schema_passes():
    check_frame(GOOD)
    check_frame(frame("time_extended", session_id=1, deadline_at="2026-12-07T10:00:00+00:00", minutes=5))
    check_frame(frame("time_extended", session_id=1, deadline_at="2026-12-07T10:00:00+00:00", minutes=5, user_id=3))


@pytest.mark.parametrize(
    ("bad", "says"),
    [
        ({"event": "proctor_warning", "data": {**GOOD["data"], "count": "1"}}, "proctor_warning.count"),
        ({"event": "proctor_warning", "data": {**GOOD["data"], "session_id": True}}, "proctor_warning.session_id"),
        ({"event": "proctor_warning", "data": {k: v for k, v in GOOD["data"].items() if k != "from_name"}}, "missing"),
        ({"event": "proctor_warning", "data": {**GOOD["data"], "risk_score": 0.9}}, "undeclared ['risk_score']"),
        ({"event": "student_teleported", "data": {}}, "no schema"),
        ({"event": "pong"}, "a frame is"),
        ({"event": "activity_logged", "data": {"event_id": 1, "event_type": "tab_switch", "severity": "extreme",
                                                "client_event_id": None, "duplicate": False}}, "severity"),
        ({"event": "active_students", "data": {"exam_id": 1, "count": 1, "students": [{"user_id": 1}]}},
         "students[0]"),
    ],
)  # fmt: skip
def test_a_frame_that_drifts_from_its_schema_is_refused(bad, says):
    with pytest.raises(FrameSchemaError) as refused:
        check_frame(bad)
    assert says in str(refused.value)
