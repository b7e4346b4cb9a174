"""Proctors' view of sessions: filters, risk ordering, and the detail with events and alerts."""

from __future__ import annotations

import pytest
from django.utils import timezone

from exams.models import ExamSession
from exams.reviews import session_review
from exams.sessions import session_start, session_submit
from monitoring.models import Alert, Event
from tests.exams.conftest import assert_no_answer_key, make_exam
from tests.factories import StudentFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def three_sessions(proctor):
    exam = make_exam(proctor)
    other_exam = make_exam(proctor, name="Other")
    sessions = []
    for risk, level in ((0.2, "low"), (0.9, "high"), (0.5, "medium")):
        session = session_start(exam=exam, user=StudentFactory())
        ExamSession.objects.filter(pk=session.pk).update(risk_score=risk, risk_level=level)
        sessions.append(session)
    session_start(exam=other_exam, user=StudentFactory())
    return exam, sessions


def ids(response):
    assert response.status_code == 200, response.content[:300]
    return [s["id"] for s in response.json()["data"]]


def test_proctor_lists_an_exams_sessions_riskiest_first(api_client, proctor, three_sessions):
    exam, (low, high, medium) = three_sessions
    client = api_client(proctor)
    assert ids(client.get(f"/api/exams/sessions?exam={exam.pk}")) == [high.pk, medium.pk, low.pk]
    assert ids(client.get(f"/api/exams/sessions?exam={exam.pk}&ordering=risk_score")) == [low.pk, medium.pk, high.pk]
    assert client.get("/api/exams/sessions").json()["count"] == 4


def test_proctor_filters_by_risk_level_status_and_review_status(api_client, proctor, three_sessions):
    exam, (low, high, medium) = three_sessions
    client = api_client(proctor)
    session_submit(session=low, answers={})
    session_review(session=medium, by=proctor, review_status="violation", note="seen", reason_code="phone_use")
    assert ids(client.get("/api/exams/sessions?risk_level=high")) == [high.pk]
    assert ids(client.get(f"/api/exams/sessions?exam={exam.pk}&status=submitted")) == [low.pk]
    assert ids(client.get("/api/exams/sessions?review_status=violation")) == [medium.pk]


@pytest.mark.parametrize(
    "query", ["exam=abc", "status=done", "risk_level=extreme", "review_status=x", "ordering=name", f"exam={10**30}"]
)
def test_bad_filters_are_a_400(api_client, proctor, query):
    response = api_client(proctor).get(f"/api/exams/sessions?{query}")
    assert response.status_code == 400
    assert response.json()["error"].startswith("Invalid input")


def test_proctor_detail_has_the_events_timeline_and_alerts(api_client, proctor, student):
    exam = make_exam(proctor)
    session = session_start(exam=exam, user=student)
    now = timezone.now()
    Event.objects.create(
        session=session, event_type="tab_switch", timestamp=now, severity="medium", risk_score_after=0.3
    )
    Event.objects.create(session=session, event_type="disconnect", timestamp=now, is_technical=True)
    Alert.objects.create(session=session, alert_type="high_risk", message="Risk 0.8", risk_score=0.8, risk_level="high")
    response = api_client(proctor).get(f"/api/exams/sessions/{session.pk}/")
    data = response.json()["data"]
    assert [e["event_type"] for e in data["events"]] == ["tab_switch", "disconnect"]
    assert data["events"][1]["is_technical"] is True and data["events_total"] == 2
    assert data["alerts"][0]["message"] == "Risk 0.8" and data["alerts"][0]["resolved"] is False
    assert data["user"]["email"] == student.email
    assert data["exam"]["questions"][0]["answer"] == "4"


def test_student_detail_has_neither_events_nor_alerts_nor_the_key(api_client, proctor, student):
    exam = make_exam(proctor)
    session = session_start(exam=exam, user=student)
    Event.objects.create(session=session, event_type="tab_switch", timestamp=timezone.now())
    response = api_client(student).get(f"/api/exams/sessions/{session.pk}")
    data = response.json()["data"]
    assert "events" not in data and "alerts" not in data and "review_status" not in data
    assert len(data["exam"]["questions"]) == 3
    assert_no_answer_key(response)
