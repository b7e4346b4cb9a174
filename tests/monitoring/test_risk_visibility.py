"""The student does not watch their own risk: `Exam.show_risk_to_student` (off by default) decides
whether a student's ack, join reply and session views carry it; proctors keep it everywhere."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async

from accounts.models import AuditEntry
from exams.sessions import session_start
from tests.monitoring.conftest import make_exam

SEED_ACK = {"event_id", "event_type", "severity", "client_event_id", "duplicate"}
RISK = {"risk_score", "risk_level"}


@pytest.mark.django_db(transaction=True)
class TestSocket:
    async def test_by_default_the_students_ack_and_join_reply_carry_no_risk_and_the_proctor_sees_it(
        self, ws_connect, proctor, student
    ):
        exam = await database_sync_to_async(make_exam)(proctor)
        assert exam.show_risk_to_student is False
        await database_sync_to_async(session_start)(exam=exam, user=student)
        watcher = await ws_connect(proctor)
        await watcher.send("join_exam", exam_id=exam.pk)
        await watcher.expect("joined_exam")
        sock = await ws_connect(student)
        await sock.send("join_exam", exam_id=exam.pk)
        joined = await sock.expect("joined_exam")

        for n in range(3):
            await sock.send("suspicious_activity", exam_id=exam.pk, type="tab_switch", client_event_id=f"t{n}")
            ack = await sock.expect("activity_logged")
            assert set(ack) == SEED_ACK, ack
        seen = await watcher.expect("student_activity")

        assert not RISK & set(joined), joined
        assert isinstance(seen["risk_score"], float) and seen["risk_level"]

    async def test_an_exam_that_shows_risk_puts_it_in_the_ack(self, ws_connect, proctor, student):
        exam = await database_sync_to_async(make_exam)(proctor, show_risk_to_student=True)
        await database_sync_to_async(session_start)(exam=exam, user=student)
        sock = await ws_connect(student)
        await sock.send("join_exam", exam_id=exam.pk)
        joined = await sock.expect("joined_exam")
        await sock.send("suspicious_activity", exam_id=exam.pk, type="tab_switch", client_event_id="t0")
        ack = await sock.expect("activity_logged")

        assert set(ack) == SEED_ACK | RISK
        assert set(joined) >= RISK


@pytest.mark.django_db
class TestRest:
    def test_the_batch_reply_and_the_students_session_views_carry_no_risk(self, api_client, proctor, student):
        exam = make_exam(proctor)
        session = session_start(exam=exam, user=student)
        client = api_client(student)
        events = [{"type": "tab_switch", "client_event_id": f"b{n}"} for n in range(6)]

        reply = client.post(f"/api/exams/sessions/{session.pk}/events", {"events": events}, format="json")
        again = client.post(f"/api/exams/sessions/{session.pk}/events", {"events": events[:1]}, format="json")
        detail = client.get(f"/api/exams/sessions/{session.pk}").json()["data"]
        listed = client.get("/api/exams/sessions").json()["data"][0]
        watched = api_client(proctor).get(f"/api/exams/sessions/{session.pk}").json()["data"]

        assert reply.status_code == 200
        for result in reply.json()["data"]["results"] + again.json()["data"]["results"]:
            assert not RISK & set(result), result
        for view in (detail, listed):
            assert (view["risk_score"], view["risk_level"], view["integrity_score"]) == (None, None, None)
        assert watched["risk_score"] == pytest.approx(0.24) and watched["risk_level"] == "low"

    def test_an_exam_that_shows_risk_shows_it_in_the_students_views(self, api_client, proctor, student):
        exam = make_exam(proctor, show_risk_to_student=True)
        session = session_start(exam=exam, user=student)
        client = api_client(student)

        reply = client.post(
            f"/api/exams/sessions/{session.pk}/events",
            {"events": [{"type": "tab_switch", "client_event_id": "s1"}]},
            format="json",
        )
        detail = client.get(f"/api/exams/sessions/{session.pk}").json()["data"]

        assert set(reply.json()["data"]["results"][0]) >= RISK
        assert detail["integrity_score"] == 100 and detail["risk_level"] == "low"

    def test_turning_it_on_is_part_of_the_exam_api_and_audited(self, api_client, proctor):
        exam = make_exam(proctor)

        response = api_client(proctor).patch(f"/api/exams/{exam.pk}", {"show_risk_to_student": True}, format="json")

        assert response.status_code == 200 and response.json()["data"]["show_risk_to_student"] is True
        entry = AuditEntry.objects.get(action="exam_update", target_id=str(exam.pk))
        assert entry.details["changes"] == {"show_risk_to_student": {"from": False, "to": True}}
        assert entry.actor == proctor and entry.details["via"] == "api"
