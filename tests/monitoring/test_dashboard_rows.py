"""What the live dashboard's rows and cards are built from: `student_joined` carries the same row as
`active_students` (incidents, the open raised hand, status, time state), so a student who reconnects
shows complete without a "Refresh list"; an alert carries the risk it was raised at and the student's now."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async
from django.test import Client

from exams.models import ExamSession
from monitoring.ingest.activity import parse_activity
from monitoring.ingest.services import IngestRequest, events_ingest
from monitoring.models import Alert

pytestmark = pytest.mark.django_db(transaction=True)


async def test_a_rejoining_student_is_announced_with_the_row_the_list_shows(
    ws_connect, student, proctor, exam, session
):
    watcher = await ws_connect(proctor)
    await watcher.send("join_exam", exam_id=exam.pk)
    assert (await watcher.expect("active_students"))["count"] == 0
    pupil = await ws_connect(student)
    await pupil.send("join_exam", exam_id=exam.pk)
    await pupil.expect("joined_exam")
    await watcher.expect("student_joined")

    # Before the drop: two incidents, an open hand, a warning, ten extra minutes, then a pause.
    for index in range(2):
        await pupil.send("suspicious_activity", exam_id=exam.pk, type="tab_switch", client_event_id=f"row-{index}")
        await pupil.expect("activity_logged")
    await pupil.send("raise_hand", exam_id=exam.pk, message="Is a calculator allowed?")
    await pupil.expect("action_ok")
    await watcher.send("warn_student", session_id=session.pk, message="Stay on the exam tab.")
    await watcher.expect("action_ok")
    await watcher.send("extend_time", session_id=session.pk, minutes=10, reason="late start")
    await watcher.expect("action_ok")
    await watcher.send("pause_session", session_id=session.pk, reason="fire alarm")
    await watcher.expect("action_ok")
    await pupil.communicator.disconnect()
    await watcher.expect("student_left")

    again = await ws_connect(student)
    await again.send("join_exam", exam_id=exam.pk)
    await again.expect("joined_exam")
    announced = await watcher.expect("student_joined")
    await watcher.send("get_active_students", exam_id=exam.pk)
    [listed] = (await watcher.expect("active_students"))["students"]

    stored = await database_sync_to_async(ExamSession.objects.get)(pk=session.pk)
    assert announced == listed  # one builder: the announcement and a refreshed list cannot disagree
    assert announced["exam_id"] == exam.pk
    assert announced["session_id"] == session.pk
    assert announced["status"] == "in_progress"
    assert announced["flagged_incidents_count"] == stored.flagged_incidents_count == 2
    assert announced["hand"]["message"] == "Is a calculator allowed?"
    assert announced["paused"] is True
    assert announced["extended_seconds"] == 600
    assert announced["warnings_count"] == 1
    assert announced["deadline_at"] == stored.deadline_at.isoformat()
    assert announced["risk_score"] == stored.risk_score


async def test_a_student_without_a_session_is_announced_with_an_empty_row(ws_connect, student, proctor, exam):
    watcher = await ws_connect(proctor)
    await watcher.send("join_exam", exam_id=exam.pk)
    await watcher.expect("active_students")
    pupil = await ws_connect(student)
    await pupil.send("join_exam", exam_id=exam.pk)
    await pupil.expect("joined_exam")
    announced = await watcher.expect("student_joined")
    assert (announced["user_id"], announced["session_id"], announced["status"]) == (student.pk, None, None)
    assert (announced["flagged_incidents_count"], announced["hand"]) == (0, None)


@pytest.mark.django_db
def test_the_alert_list_carries_the_risk_each_was_raised_at_and_the_students_risk_now(proctor, session, baseline):
    climb = [{"type": "tab_switch"}] * 11 + [
        {"type": "window_focus", "blur_duration_ms": 130_000},
        {"type": "question_answered", "question_id": "q1", "time_spent_sec": 2},  # medium: an alert
        {"type": "typing_sample", "wpm": 200},  # high: another
    ]
    for frame in climb:
        events_ingest([IngestRequest(session.pk, parse_activity({"exam_id": session.exam_id, **frame}))])
    client = Client()
    client.force_login(proctor)
    listed = client.get(f"/monitor/exam/{session.exam_id}/alerts").json()["alerts"]
    stored = ExamSession.objects.get(pk=session.pk)
    assert stored.risk_level == "high"
    first = Alert.objects.filter(session=session, alert_type="risk_threshold").order_by("id").first()
    [entry] = [a for a in listed if a["alert_id"] == first.pk]
    assert (entry["risk_level"], entry["risk_score"]) == ("medium", first.risk_score)
    assert (entry["session_risk_level"], entry["session_risk_score"]) == ("high", stored.risk_score)
