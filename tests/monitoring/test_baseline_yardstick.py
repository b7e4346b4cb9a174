"""Nobody moves their own yardstick (issue 22, item 3): a session scores, and rescores, against the
baseline as it stood when it started; the student's baseline writes wait until their exam is over."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async
from rest_framework.test import APIClient

from accounts.services import tokens_issue
from exams.models import ExamSession
from exams.sessions import session_start, session_submit
from monitoring.ingest.risk import session_rescore
from scoring.models import Baseline
from scoring.services import baseline_add_sample
from tests.monitoring.conftest import make_exam

# The issue's numbers: typing at 280 wpm, the mouse at 15,000 px/s and 1 s answers against a
# 40 wpm / 400 px/s / 60 s baseline: typing 0.9 x 0.2 + mouse 0.4 x 0.15 + answers 0.8 x 0.2 = 0.40.
CHEAT = [
    {"type": "typing_sample", "wpm": 280},
    {"type": "mouse_sample", "speed_pxs": 15000},
    {"type": "question_answered", "question_id": "q1", "time_spent_sec": 1},
]
CHEAT_AS_BASELINE = {"typing_speed_wpm": 280, "mouse_speed_pxs": 15000, "avg_question_time_sec": 1}


def calibrated_student(student):
    for wpm, speed, seconds in ((40, 400, 60), (42, 420, 62), (38, 380, 58)):
        baseline_add_sample(
            user=student,
            sample={"typing_speed_wpm": wpm, "mouse_speed_pxs": speed, "avg_question_time_sec": seconds},
        )
    return student


def rest_client(student) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens_issue(user=student)['token']}")
    return client


@pytest.mark.django_db(transaction=True)
async def test_issue_22_item_3_a_student_cannot_lower_their_live_risk_by_rewriting_their_baseline(
    ws_connect, proctor, student
):
    await database_sync_to_async(calibrated_student)(student)
    exam = await database_sync_to_async(make_exam)(proctor, monitoring_sensitivity="high")
    session = await database_sync_to_async(session_start)(exam=exam, user=student)
    watcher = await ws_connect(proctor)
    await watcher.send("join_exam", exam_id=exam.pk)
    await watcher.expect("active_students")
    sock = await ws_connect(student)
    await sock.send("join_exam", exam_id=exam.pk)
    await sock.expect("joined_exam")

    alerts = []

    async def behave(tag: str) -> float:
        """Send the cheating behaviour; return the risk the proctor sees after it (alerts noted on the way)."""
        for index, event in enumerate(CHEAT):
            await sock.send("suspicious_activity", exam_id=exam.pk, client_event_id=f"{tag}-{index}", **event)
            await sock.expect("activity_logged")
            while (frame := await watcher.receive())["event"] != "student_activity":
                if frame["event"] == "high_risk_alert":
                    alerts.append(frame["data"])
        return frame["data"]["risk_score"]

    before = await behave("first")
    assert before == pytest.approx(0.40)

    client = await database_sync_to_async(rest_client)(student)
    refusals = []
    for _ in range(8):
        response = await database_sync_to_async(client.post)("/api/baselines", CHEAT_AS_BASELINE, format="json")
        refusals.append((response.status_code, response.json().get("details", {}).get("code")))
    after = await behave("again")

    assert refusals == [(409, "session_open")] * 8
    assert after == pytest.approx(0.40)
    await watcher.nothing()
    assert [alert["alert_type"] for alert in alerts] == ["behaviour_anomaly"]
    assert alerts[0]["session_id"] == session.pk
    stored = await database_sync_to_async(ExamSession.objects.get)(pk=session.pk)
    assert stored.risk_score == pytest.approx(0.40)
    baseline = await database_sync_to_async(Baseline.objects.get)(user=student)
    assert baseline.sample_count == 3 and baseline.typing_speed_wpm == 40


@pytest.mark.django_db
def test_after_the_exam_the_student_may_add_samples_and_the_finished_session_keeps_its_score(
    proctor, student, api_client
):
    calibrated_student(student)
    session = session_start(exam=make_exam(proctor), user=student)
    client = api_client(student)
    batch = client.post(f"/api/exams/sessions/{session.pk}/events", {"events": CHEAT}, format="json")
    assert batch.status_code == 200
    session_submit(session=session, answers={})
    session.refresh_from_db()
    scored = session.risk_score

    for _ in range(5):  # 3 + 5 self-reported today: within BASELINE_SAMPLES_PER_DAY
        assert client.post("/api/baselines", CHEAT_AS_BASELINE, format="json").status_code == 201

    outcome = session_rescore(session=ExamSession.objects.select_related("exam", "user").get(pk=session.pk))
    assert scored == pytest.approx(0.40)
    assert outcome.new_risk == pytest.approx(scored) and outcome.baseline_used == "snapshot"
    # A session started now is measured against the new baseline.
    later = session_start(exam=make_exam(proctor, name="Later"), user=student)
    reply = client.post(f"/api/exams/sessions/{later.pk}/events", {"events": CHEAT}, format="json")
    assert reply.status_code == 200
    later.refresh_from_db()
    assert later.risk_score < scored


@pytest.mark.django_db
def test_a_session_from_before_snapshots_rescores_against_the_current_baseline_and_says_so(proctor, student):
    calibrated_student(student)
    session = session_start(exam=make_exam(proctor), user=student)
    ExamSession.objects.filter(pk=session.pk).update(baseline_snapshot={})

    outcome = session_rescore(session=ExamSession.objects.select_related("exam", "user").get(pk=session.pk))

    assert outcome.baseline_used == "current baseline (no snapshot recorded)"
