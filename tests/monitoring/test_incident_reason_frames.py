"""Socket frames take a reason_code from the taxonomy: required to terminate, optional to warn and pause."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async
from django.test import Client

from accounts.models import AuditEntry
from exams import reasons
from exams.models import ExamSession
from monitoring.models import Event

pytestmark = pytest.mark.django_db(transaction=True)


@database_sync_to_async
def reload(session: ExamSession) -> ExamSession:
    return ExamSession.objects.get(pk=session.pk)


@database_sync_to_async
def warning_data(session: ExamSession) -> list[dict]:
    return [e.event_data for e in Event.objects.filter(session=session, event_type="proctor_warning").order_by("id")]


@database_sync_to_async
def audit_details(action: str) -> list[dict]:
    return [e.details for e in AuditEntry.objects.filter(action=action).order_by("id")]


async def watching(ws_connect, proctor, exam):
    watcher = await ws_connect(proctor)
    await watcher.send("join_exam", exam_id=exam.pk)
    await watcher.expect("active_students")
    return watcher


class TestTerminate:
    async def test_without_a_reason_code_is_refused_and_the_session_stays_open(
        self, ws_connect, proctor, exam, session
    ):
        watcher = await watching(ws_connect, proctor, exam)
        await watcher.send("terminate_session", session_id=session.pk, reason="phone on desk")
        error = await watcher.expect("error")
        assert (error["code"], error["event"]) == ("reason_required", "terminate_session")
        assert (await reload(session)).status == "in_progress"

    async def test_an_unknown_reason_code_is_invalid_reason(self, ws_connect, proctor, exam, session):
        watcher = await watching(ws_connect, proctor, exam)
        for code in ("cheating", 7, ""):
            await watcher.send("terminate_session", session_id=session.pk, reason="x", reason_code=code)
            expected = "reason_required" if code == "" else "invalid_reason"
            assert (await watcher.expect("error"))["code"] == expected
        assert (await reload(session)).status == "in_progress"

    async def test_with_a_code_it_ends_flagged_with_the_code_stored(self, ws_connect, proctor, exam, session):
        watcher = await watching(ws_connect, proctor, exam)
        await watcher.send(
            "terminate_session", session_id=session.pk, reason="Someone else typing", reason_code="impersonation"
        )
        assert (await watcher.expect("action_ok"))["action"] == "terminate_session"
        stored = await reload(session)
        assert (stored.status, stored.termination_reason_code) == ("flagged", "impersonation")
        assert (await audit_details("session_terminate"))[0]["reason_code"] == "impersonation"


class TestWarnAndPause:
    async def test_warn_takes_an_optional_code_and_records_it(self, ws_connect, proctor, exam, session):
        watcher = await watching(ws_connect, proctor, exam)
        await watcher.send("warn_student", session_id=session.pk, message="Eyes on screen")
        assert (await watcher.expect("action_ok"))["action"] == "warn_student"
        await watcher.send("warn_student", session_id=session.pk, message="Put the phone away", reason_code="phone_use")
        assert (await watcher.expect("action_ok"))["action"] == "warn_student"
        assert [d["reason_code"] for d in await warning_data(session)] == ["", "phone_use"]
        assert [d.get("reason_code") for d in await audit_details("warn_student")] == [None, "phone_use"]

    async def test_warn_with_an_unknown_code_is_refused_before_anything_is_stored(
        self, ws_connect, proctor, exam, session
    ):
        watcher = await watching(ws_connect, proctor, exam)
        await watcher.send("warn_student", session_id=session.pk, message="x", reason_code="bogus")
        assert (await watcher.expect("error"))["code"] == "invalid_reason"
        assert await warning_data(session) == []
        assert (await reload(session)).warnings_count == 0

    async def test_pause_with_a_code_is_audited_and_an_unknown_code_refused(self, ws_connect, proctor, exam, session):
        watcher = await watching(ws_connect, proctor, exam)
        await watcher.send("pause_session", session_id=session.pk, reason="Check", reason_code="nope")
        assert (await watcher.expect("error"))["code"] == "invalid_reason"
        await watcher.send("pause_session", session_id=session.pk, reason="Check", reason_code="id_mismatch")
        assert (await watcher.expect("action_ok"))["action"] == "pause_session"
        assert await audit_details("session_pause") == [{"reason": "Check", "reason_code": "id_mismatch"}]


def test_the_live_page_serves_the_taxonomy_for_its_reason_selects(proctor, exam):
    client = Client()
    client.force_login(proctor)
    response = client.get(f"/monitor/exam/{exam.pk}/")
    assert response.status_code == 200
    assert response.context["reasons"] == reasons.as_json()
    page = response.content.decode()
    assert 'id="incident-reasons"' in page
    assert 'id="terminate-reason-code" name="reason_code" data-reason-select required' in page
    assert 'id="warn-reason-code"' in page and 'id="pause-reason-code"' in page
