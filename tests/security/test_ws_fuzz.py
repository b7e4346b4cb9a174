"""Property-based frames into /ws/exam/: whatever a client sends, one `error` per bad frame and no crash.

Each example opens a real socket through Channels' WebsocketCommunicator as a student who has
joined an exam with an open session, sends a generated sequence of bad frames, and checks: every
frame got exactly one `error` reply with a stable code, no Event row appeared, and the socket still
answers `ping`.
"""

from __future__ import annotations

import json
import os
import string
from urllib.parse import quote

import pytest
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator
from django.conf import settings as django_settings
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.services import tokens_issue
from exams.sessions import session_start
from monitoring.live.frames import CLIENT_EVENTS
from monitoring.models import Event
from scoring.catalogue import CATALOGUE, CLIENT_TYPES, NUMBER
from tests.factories import ProctorFactory, StudentFactory
from tests.monitoring.conftest import make_exam

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

EXAMPLES = int(os.environ.get("WS_FUZZ_EXAMPLES", "100"))
REPLY_TIMEOUT_S = 5
# Every code a bad frame may earn; anything else (server_error above all) fails the property.
EXPECTED_CODES = {
    "bad_json",
    "bad_frame",
    "unknown_event",
    "binary_not_supported",
    "frame_too_large",
    "forbidden",
    "invalid_payload",
    "unknown_activity_type",
    "not_joined",
    "rate_limited",
    "not_found",
    "bad_encoding",
    "too_deep",
}

json_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40)
json_values = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=10), children, max_size=5),
    max_leaves=20,
)
not_an_id = st.one_of(
    st.none(),
    st.booleans(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(alphabet=string.ascii_letters + " -", max_size=10),
    st.lists(st.integers(), max_size=3),
    st.integers(max_value=0),
    st.integers(min_value=2**62 + 1),
)


wrong_measurements = st.one_of(
    st.text(max_size=5),
    st.booleans(),
    st.lists(st.integers(), min_size=1, max_size=3),
    st.dictionaries(st.text(max_size=3), st.integers(), min_size=1, max_size=2),
    st.integers(min_value=10**9),
    st.integers(max_value=-1),
)


def _text(value) -> str:
    return json.dumps(value)


# One bad frame as ("text", str) or ("bytes", bytes).
bad_frames = st.one_of(
    # Not JSON, or JSON that is not an object.
    st.text(min_size=1, max_size=50).filter(lambda s: not s.strip().startswith("{")).map(lambda s: ("text", s)),
    json_values.filter(lambda v: not isinstance(v, dict)).map(lambda v: ("text", _text(v))),
    # Objects whose event is missing, not a string, or unknown.
    st.dictionaries(st.sampled_from(["data", "type", "user_id"]), json_values, max_size=3).map(
        lambda v: ("text", _text(v))
    ),
    st.builds(
        lambda name, data: ("text", _text({"event": name, "data": data})),
        st.text(max_size=30).filter(lambda n: n not in CLIENT_EVENTS) | json_scalars.filter(lambda n: n is not None),
        json_values,
    ),
    # Known events with data of the wrong type.
    st.builds(
        lambda name, data: ("text", _text({"event": name, "data": data})),
        st.sampled_from(sorted(CLIENT_EVENTS - {"ping"})),
        json_values.filter(lambda v: not isinstance(v, dict) and v is not None),
    ),
    # Proctor-only events from a student.
    st.builds(
        lambda name: ("text", _text({"event": name, "data": {"session_id": 1, "alert_id": 1, "message": "x"}})),
        st.sampled_from(["warn_student", "resolve_alert", "terminate_session", "get_active_students"]),
    ),
    # Activities with bad ids, unknown types, or wrongly typed measurements.
    st.builds(
        lambda exam_id, type_: (
            "text",
            _text({"event": "suspicious_activity", "data": {"exam_id": exam_id, "type": type_}}),
        ),
        not_an_id,
        st.sampled_from(sorted(CLIENT_TYPES)),
    ),
    st.builds(
        lambda type_: ("text", _text({"event": "suspicious_activity", "data": {"exam_id": "EXAM", "type": type_}})),
        json_values.filter(lambda t: not (isinstance(t, str) and t in CLIENT_TYPES)),
    ),
    st.builds(
        lambda pair, value: (
            "text",
            _text({"event": "suspicious_activity", "data": {"exam_id": "EXAM", "type": pair[0], pair[1]: value}}),
        ),
        # Every numeric field a client may send, from the catalogue.
        st.sampled_from(
            sorted(
                (name, field.name) for name in CLIENT_TYPES for field in CATALOGUE[name].fields if field.kind == NUMBER
            )
        ),
        wrong_measurements,
    ),
    st.builds(
        lambda field, value: (
            "text",
            _text({"event": "suspicious_activity", "data": {"exam_id": "EXAM", "type": "copy", field: value}}),
        ),
        st.sampled_from(["client_ts", "client_event_id"]),
        st.one_of(
            st.lists(st.integers(), min_size=1, max_size=3),
            st.dictionaries(st.text(max_size=3), st.integers(), min_size=1, max_size=2),
            st.booleans(),
            st.text(alphabet="!@#$%^&*() /", min_size=1, max_size=8),
            st.integers(min_value=32503680000001),
        ),
    ),
    # Huge, binary and invalid UTF-8 frames.
    st.integers(min_value=1, max_value=4).map(
        lambda n: ("text", "{" + " " * (django_settings.EXAMPULSE["WS_MAX_FRAME_BYTES"] * n))
    ),
    st.binary(min_size=1, max_size=200).map(lambda b: ("bytes", b)),
    st.sampled_from([b"\xff\xfe{", b'{"event": "ping"\xc3\x28}', b"\xed\xa0\x80"]).map(lambda b: ("bytes", b)),
    # Lone surrogates: what invalid UTF-8 becomes if a transport lets it through as text.
    st.sampled_from(
        [
            '{"event": "ping\ud800"}',
            "\udcff",
            '{"event": "suspicious_activity", "data": {"exam_id": "EXAM", "type": "copy", "note": "\ud800"}}',
        ]
    ).map(lambda s: ("text", s)),
    st.sampled_from(
        ['{"event": "suspicious_activity", "data": {"exam_id": "EXAM", "type": "copy", "note": "\\ud800"}}']
    ).map(lambda s: ("text", s)),
    # Deep nesting.
    st.integers(min_value=100, max_value=5000).map(
        lambda n: ("text", '{"event": "ping", "data": ' + "[" * n + "]" * n + "}")
    ),
)


@pytest.fixture
def joined_world(db):
    proctor = ProctorFactory()
    student = StudentFactory()
    exam = make_exam(proctor)
    session = session_start(exam=exam, user=student)
    return {"exam": exam, "session": session, "path": f"/ws/exam/?token={quote(tokens_issue(user=student)['token'])}"}


async def _exchange(path: str, exam_id: int, frames: list[tuple[str, str | bytes]]) -> tuple[list[dict], dict]:
    from exampulse.asgi import application

    communicator = WebsocketCommunicator(application, path)
    connected, _ = await communicator.connect(timeout=REPLY_TIMEOUT_S)
    assert connected
    try:
        assert (await communicator.receive_json_from(REPLY_TIMEOUT_S))["event"] == "connected"
        await communicator.send_json_to({"event": "join_exam", "data": {"exam_id": exam_id}})
        assert (await communicator.receive_json_from(REPLY_TIMEOUT_S))["event"] == "joined_exam"
        replies = []
        for kind, payload in frames:
            if kind == "text":
                await communicator.send_to(text_data=payload.replace("EXAM", str(exam_id)))
            else:
                await communicator.send_to(bytes_data=payload)
            replies.append(await communicator.receive_json_from(REPLY_TIMEOUT_S))
        assert await communicator.receive_nothing(0.05), "a bad frame got more than one reply"
        await communicator.send_json_to({"event": "ping"})
        final = await communicator.receive_json_from(REPLY_TIMEOUT_S)
        return replies, final
    finally:
        await communicator.disconnect()


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(frames=st.lists(bad_frames, min_size=1, max_size=8))
def test_every_bad_frame_gets_one_error_and_stores_nothing(joined_world, frames):
    # Connection events (disconnected, reconnected) are the server's own technical records.
    before = Event.objects.filter(is_technical=False).count()

    replies, final = async_to_sync(_exchange)(joined_world["path"], joined_world["exam"].pk, frames)

    assert [reply["event"] for reply in replies] == ["error"] * len(frames), replies
    codes = {reply["data"]["code"] for reply in replies}
    assert codes <= EXPECTED_CODES, replies
    assert all(reply["data"]["message"] for reply in replies)
    assert final["event"] in ("pong", "error")  # error only when the flood limit still applies
    assert Event.objects.filter(is_technical=False).count() == before


def test_a_flood_is_rate_limited_frame_by_frame_and_the_socket_survives(joined_world, settings):
    burst = settings.EXAMPULSE["WS_RATE_BURST"]
    frames = [("text", '{"event": "ping"}')] * (burst + 30)

    async def flood():
        from exampulse.asgi import application

        communicator = WebsocketCommunicator(application, joined_world["path"])
        await communicator.connect()
        await communicator.receive_json_from()
        try:
            for _kind, payload in frames:
                await communicator.send_to(text_data=payload)
            replies = [await communicator.receive_json_from(REPLY_TIMEOUT_S) for _ in frames]
            return replies
        finally:
            await communicator.disconnect()

    replies = async_to_sync(flood)()

    assert len(replies) == len(frames)
    limited = [r for r in replies if r["event"] == "error"]
    assert limited and {r["data"]["code"] for r in limited} == {"rate_limited"}
    assert sum(r["event"] == "pong" for r in replies) >= burst


def test_a_valid_event_after_garbage_is_still_stored_once(joined_world):
    exam_id = joined_world["exam"].pk
    frames = [
        ("bytes", b"\xff\xfe"),
        ("text", "not json"),
        (
            "text",
            json.dumps(
                {
                    "event": "suspicious_activity",
                    "data": {"exam_id": exam_id, "type": "tab_switch", "client_event_id": "ok-1"},
                }
            ),
        ),
        (
            "text",
            json.dumps(
                {
                    "event": "suspicious_activity",
                    "data": {"exam_id": exam_id, "type": "tab_switch", "client_event_id": "ok-1"},
                }
            ),
        ),
    ]

    replies, final = async_to_sync(_exchange)(joined_world["path"], exam_id, frames)

    assert [r["event"] for r in replies] == ["error", "error", "activity_logged", "activity_logged"]
    assert replies[3]["data"]["duplicate"] is True
    assert final["event"] == "pong"
    assert Event.objects.filter(session=joined_world["session"], client_event_id="ok-1").count() == 1
