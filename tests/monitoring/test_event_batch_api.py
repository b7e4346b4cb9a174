"""POST /api/exams/sessions/<id>/events: the offline buffer's flush, through the same ingestion."""

from __future__ import annotations

import pytest

from exams.sessions import session_submit
from monitoring.models import Event
from tests.monitoring.conftest import make_exam

pytestmark = pytest.mark.django_db


@pytest.fixture
def exam(proctor):
    """These tests read the risk from the student's acks, so the exam shows it (`show_risk_to_student`)."""
    return make_exam(proctor, show_risk_to_student=True)


def url(session) -> str:
    return f"/api/exams/sessions/{session.pk}/events"


def test_a_batch_is_stored_in_order_with_one_result_per_event(api_client, student, session):
    events = [
        {"type": "tab_switch", "client_event_id": "b-1"},
        {"type": "typing_sample", "wpm": 41, "client_event_id": "b-2"},
        {"type": "teleport", "client_event_id": "b-3"},
        {"type": "question_answered", "question_id": "q1", "time_spent_sec": 30, "client_event_id": "b-4"},
    ]
    response = api_client(student).post(url(session), {"events": events}, format="json")
    assert response.status_code == 200
    body = response.json()["data"]
    assert [r["status"] for r in body["results"]] == ["stored", "stored", "error", "stored"]
    assert body["results"][2]["code"] == "unknown_activity_type"
    assert (body["stored"], body["duplicate"], body["error"]) == (3, 0, 1)
    stored = list(Event.objects.filter(session=session).order_by("id").values_list("client_event_id", flat=True))
    assert stored == ["b-1", "b-2", "b-4"]
    assert body["results"][0]["event_id"] == Event.objects.get(client_event_id="b-1").pk


def test_undeclared_keys_in_a_batch_are_dropped_before_storage(api_client, student, session):
    events = [
        {"type": "copy", "length": 3, "user_id": 1, "session_id": 25, "client_event_id": "u-1"},
        {
            "type": "question_answered",
            "question_id": "q1",
            "time_spent_sec": 9,
            "by": "server",
            "client_event_id": "u-2",
        },
    ]
    response = api_client(student).post(url(session), {"events": events}, format="json")
    assert response.status_code == 200
    stored = dict(Event.objects.filter(session=session).values_list("client_event_id", "event_data"))
    assert stored == {"u-1": {"length": 3}, "u-2": {"question_id": "q1", "time_spent_sec": 9}}


def test_replaying_a_batch_stores_nothing_twice(api_client, student, session):
    events = [{"type": "copy", "client_event_id": f"r-{i}"} for i in range(5)]
    client = api_client(student)
    first = client.post(url(session), {"events": events}, format="json").json()["data"]
    again = client.post(url(session), {"events": events}, format="json").json()["data"]
    assert first["stored"] == 5
    assert again["duplicate"] == 5
    assert [r["event_id"] for r in again["results"]] == [r["event_id"] for r in first["results"]]
    assert Event.objects.filter(session=session).count() == 5


def test_a_replayed_event_gets_its_first_result_again(api_client, student, session):
    """The repeat of an early event carries the risk and level its first result had, not the session's now."""
    client = api_client(student)
    events = [{"type": "tab_switch", "client_event_id": f"p-{i}"} for i in range(11)]
    first = client.post(url(session), {"events": events}, format="json").json()["data"]["results"]
    assert (first[0]["risk_score"], first[0]["risk_level"]) == (0.0, "low")
    assert first[-1]["risk_level"] == "medium"
    again = client.post(url(session), {"events": [events[0], events[4]]}, format="json").json()["data"]["results"]
    assert again[0] == {**first[0], "status": "duplicate", "duplicate": True}
    assert again[1] == {**first[4], "index": 1, "status": "duplicate", "duplicate": True}


def test_batch_rescores_the_session(api_client, student, session):
    events = [{"type": "tab_switch"} for _ in range(11)]
    response = api_client(student).post(url(session), {"events": events}, format="json")
    assert response.json()["data"]["results"][-1]["risk_score"] == pytest.approx(0.3)
    session.refresh_from_db()
    assert session.risk_score == pytest.approx(0.3)
    assert session.risk_components["components"]["tab_switch"]["value"] == 1.0


@pytest.mark.parametrize(
    "body",
    [{}, {"events": []}, {"events": "x"}, [1, 2], {"events": [{"type": "tab_switch"}] * 501}],
)
def test_malformed_batches_are_400_and_store_nothing(api_client, student, session, body):
    response = api_client(student).post(url(session), body, format="json")
    assert response.status_code == 400
    assert response.json()["error"]
    assert not Event.objects.exists()


def test_exam_id_must_match_the_session(api_client, student, session):
    response = api_client(student).post(
        url(session), {"events": [{"type": "tab_switch", "exam_id": session.exam_id + 1}]}, format="json"
    )
    assert response.json()["data"]["results"][0]["code"] == "invalid_payload"


@pytest.mark.parametrize(("who", "status"), [("anonymous", 401), ("other_student", 404), ("proctor", 403)])
def test_only_the_sessions_student_may_post_events(api_client, session, other_student, proctor, who, status):
    user = {"anonymous": None, "other_student": other_student, "proctor": proctor}[who]
    response = api_client(user).post(url(session), {"events": [{"type": "tab_switch"}]}, format="json")
    assert response.status_code == status
    assert not Event.objects.exists()


def test_events_after_submit_are_refused_per_event(api_client, student, session):
    session_submit(session=session, answers={})
    response = api_client(student).post(url(session), {"events": [{"type": "tab_switch"}]}, format="json")
    assert response.status_code == 200
    assert response.json()["data"]["results"][0]["code"] == "session_not_active"
    assert not Event.objects.exists()


def test_one_baseline_sample_is_enough_for_the_rules_the_detector_waits(api_client, student, exam):
    client = api_client(student)
    sample = {"typing_speed_wpm": 40, "mouse_speed_pxs": 400, "avg_question_time_sec": 60}
    assert client.post("/api/baselines/", sample, format="json").status_code == 201
    session_id = client.post(f"/api/exams/{exam.pk}/start").json()["data"]["id"]
    response = client.post(
        f"/api/exams/sessions/{session_id}/events", {"events": [{"type": "typing_sample", "wpm": 120}]}, format="json"
    )
    assert response.json()["data"]["results"][0]["risk_score"] == pytest.approx(0.18)
    detail = client.get(f"/api/exams/sessions/{session_id}")
    from exams.models import ExamSession

    components = ExamSession.objects.get(pk=session_id).risk_components
    typing = components["components"]["typing"]
    assert typing["value"] == 0.9
    assert typing["reason"].startswith("typing 120 wpm vs baseline 40 wpm")
    assert components["anomaly"]["explanation"] == "anomaly detector: needs 3 samples, has 1"
    assert detail.status_code == 200
