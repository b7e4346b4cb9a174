"""Time control over the socket: the proctor's frames, the student's pushes, the paused session's refusals."""

from __future__ import annotations

from datetime import timedelta

import pytest
from channels.db import database_sync_to_async

from exams.models import ExamSession
from monitoring.models import Event

pytestmark = pytest.mark.django_db(transaction=True)


@database_sync_to_async
def reload(session: ExamSession) -> ExamSession:
    return ExamSession.objects.get(pk=session.pk)


@database_sync_to_async
def timeline(session: ExamSession) -> list[tuple[str, bool]]:
    return list(Event.objects.filter(session=session).order_by("id").values_list("event_type", "is_technical"))


async def joined(ws_connect, student, proctor, exam):
    watcher = await ws_connect(proctor)
    await watcher.send("join_exam", exam_id=exam.pk)
    await watcher.expect("active_students")
    socket = await ws_connect(student)
    await socket.send("join_exam", exam_id=exam.pk)
    await socket.expect("joined_exam")
    return watcher, socket


async def test_extend_time_reaches_the_student_with_the_new_deadline(ws_connect, student, proctor, exam, session):
    watcher, socket = await joined(ws_connect, student, proctor, exam)
    await watcher.send("extend_time", session_id=session.pk, minutes=10, reason="fire alarm")
    ok = await watcher.expect("action_ok")
    assert ok["action"] == "extend_time" and ok["minutes"] == 10
    told = await socket.expect("time_extended")
    stored = await reload(session)
    assert stored.deadline_at - session.deadline_at == timedelta(minutes=10)
    assert told == {"session_id": session.pk, "deadline_at": stored.deadline_at.isoformat(), "minutes": 10}
    seen = await watcher.expect("time_extended")
    assert seen["user_id"] == student.pk
    assert await timeline(session) == [("time_extended", True)]


async def test_pause_stops_events_and_resume_lets_them_in(ws_connect, student, proctor, exam, session):
    watcher, socket = await joined(ws_connect, student, proctor, exam)
    await watcher.send("pause_session", session_id=session.pk, reason="noise outside")
    assert (await watcher.expect("action_ok"))["action"] == "pause_session"
    assert await socket.expect("session_paused") == {"session_id": session.pk, "reason": "noise outside"}

    await socket.send("suspicious_activity", exam_id=exam.pk, type="tab_switch", client_event_id="p-1")
    refused = await socket.expect("error")
    assert refused["code"] == "session_paused" and refused["details"]["client_event_id"] == "p-1"
    assert await timeline(session) == [("session_paused", True)]
    # Only once: the pause sends nothing more while it lasts.
    assert await socket.nothing()

    await watcher.send("pause_session", session_id=session.pk, reason="again")
    assert (await watcher.expect("error"))["code"] == "session_already_paused"

    await watcher.send("resume_session", session_id=session.pk)
    ok = await watcher.expect("action_ok")
    resumed = await socket.expect("session_resumed")
    stored = await reload(session)
    assert stored.paused_at is None
    assert resumed == {"session_id": session.pk, "deadline_at": stored.deadline_at.isoformat()}
    assert ok["deadline_at"] == resumed["deadline_at"]

    await socket.send("suspicious_activity", exam_id=exam.pk, type="tab_switch", client_event_id="p-1")
    assert (await socket.expect("activity_logged"))["client_event_id"] == "p-1"
    assert [name for name, _ in await timeline(session)] == ["session_paused", "session_resumed", "tab_switch"]


async def test_resume_of_a_running_session_is_refused(ws_connect, proctor, session):
    watcher = await ws_connect(proctor)
    await watcher.send("resume_session", session_id=session.pk)
    error = await watcher.expect("error")
    assert error["code"] == "session_not_paused" and "not paused" in error["message"]


async def test_reset_attempt_tells_the_student_and_voids_the_session(ws_connect, student, proctor, exam, session):
    watcher, socket = await joined(ws_connect, student, proctor, exam)
    await watcher.send("reset_attempt", session_id=session.pk, reason="wrong paper")
    assert (await watcher.expect("action_ok"))["action"] == "reset_attempt"
    assert await socket.expect("attempt_reset") == {"session_id": session.pk, "exam_id": exam.pk}
    stored = await reload(session)
    assert stored.voided and stored.status == "submitted"


async def test_a_student_cannot_send_time_control_frames(ws_connect, student, session):
    socket = await ws_connect(student)
    for name, data in (
        ("extend_time", {"session_id": session.pk, "minutes": 5, "reason": "x"}),
        ("pause_session", {"session_id": session.pk, "reason": "x"}),
        ("resume_session", {"session_id": session.pk}),
        ("reset_attempt", {"session_id": session.pk, "reason": "x"}),
    ):
        await socket.send(name, **data)
        assert (await socket.expect("error"))["code"] == "forbidden"
    stored = await reload(session)
    assert (stored.extended_seconds, stored.paused_at, stored.voided) == (0, None, False)


async def test_time_control_frames_validate_their_input(ws_connect, proctor, session):
    watcher = await ws_connect(proctor)
    await watcher.send("extend_time", session_id=session.pk, minutes=0, reason="x")
    assert (await watcher.expect("error"))["code"] == "invalid_payload"
    await watcher.send("extend_time", session_id=session.pk, minutes=601, reason="x")
    assert (await watcher.expect("error"))["code"] == "invalid"
    await watcher.send("pause_session", session_id=session.pk, reason="  ")
    assert (await watcher.expect("error"))["code"] == "invalid_payload"
    assert (await reload(session)).extended_seconds == 0
