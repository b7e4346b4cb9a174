"""Every proctor action lands in the audit trail, which the admin lists, filters and exports; retention
and erasure commands delete behavioural data (dry run first) and are audited."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from urllib.parse import quote

import pytest
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator
from django.core.management import CommandError, call_command
from django.utils import timezone

from accounts.models import AuditEntry
from accounts.services import tokens_issue
from exams.models import ExamSession
from exams.sessions import session_start, session_submit
from monitoring.ingest.activity import Activity
from monitoring.ingest.services import IngestRequest, alert_raise, events_ingest
from monitoring.models import Alert, Event
from scoring.models import Baseline
from scoring.services import baseline_add_sample
from tests.factories import ProctorFactory, StudentFactory
from tests.monitoring.conftest import make_exam


class Terminal(io.StringIO):
    """A stderr that says it is a terminal: the progress bar draws only on one."""

    def isatty(self) -> bool:
        return True


def audit(action: str) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(action=action).order_by("id"))


@pytest.fixture
def live(db):
    proctor = ProctorFactory()
    student = StudentFactory()
    exam = make_exam(proctor)
    session = session_start(exam=exam, user=student)
    return {"proctor": proctor, "student": student, "exam": exam, "session": session}


class TestProctorActionsAreAudited:
    def test_review_records_who_what_and_why(self, api_client, live):
        response = api_client(live["proctor"]).post(
            f"/api/exams/sessions/{live['session'].pk}/review",
            {"review_status": "suspicious", "note": "tab switching during q3", "reason_code": "tab_switching"},
            format="json",
        )

        assert response.status_code == 200
        [entry] = audit("session_review")
        assert entry.actor == live["proctor"]
        assert (entry.target_type, entry.target_id) == ("examsession", str(live["session"].pk))
        assert entry.details == {
            "from": "pending",
            "to": "suspicious",
            "note": "tab switching during q3",
            "reason_code": "tab_switching",
        }

    def test_terminate_records_the_reason(self, api_client, live):
        response = api_client(live["proctor"]).post(
            f"/api/exams/sessions/{live['session'].pk}/terminate",
            {"reason": "phone in view", "reason_code": "phone_use"},
            format="json",
        )

        assert response.status_code == 200
        [entry] = audit("session_terminate")
        assert entry.actor == live["proctor"]
        assert entry.details == {"reason": "phone in view", "reason_code": "phone_use"}

    def test_accommodations_record_before_and_after(self, api_client, live):
        from tests.factories import ProctorFactory

        boss = ProctorFactory(is_superuser=True)  # institution-wide accommodations are a superuser's
        response = api_client(boss).put(
            f"/api/users/{live['student'].pk}/accommodations", {"extra_time_pct": 50}, format="json"
        )

        assert response.status_code == 200
        [entry] = audit("accommodations_update")
        assert entry.actor == boss
        assert entry.target_id == str(live["student"].pk)
        assert entry.details["to"]["extra_time_pct"] == 50 and entry.details["from"] == {}

    def test_a_refused_action_records_nothing(self, api_client, live):
        response = api_client(live["student"]).post(
            f"/api/exams/sessions/{live['session'].pk}/review", {"review_status": "clean"}, format="json"
        )

        assert response.status_code == 403
        assert not AuditEntry.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_warning_and_resolving_over_the_socket_are_audited(live):
    session = live["session"]
    alert = alert_raise(
        session=session,
        alert_type="risk_threshold",
        risk_score=0.8,
        risk_level="high",
        severity="high",
        message="Risk 0.80",
        components={},
    )
    path = f"/ws/exam/?token={quote(tokens_issue(user=live['proctor'])['token'])}"

    async def act():
        from exampulse.asgi import application

        communicator = WebsocketCommunicator(application, path)
        await communicator.connect()
        await communicator.receive_json_from()
        try:
            await communicator.send_json_to(
                {"event": "warn_student", "data": {"session_id": session.pk, "message": "Eyes on your screen"}}
            )
            warned = await communicator.receive_json_from(5)
            await communicator.send_json_to({"event": "resolve_alert", "data": {"alert_id": alert.pk, "note": "ok"}})
            resolved = await communicator.receive_json_from(5)
            return warned, resolved
        finally:
            await communicator.disconnect()

    warned, resolved = async_to_sync(act)()

    assert warned["data"]["action"] == "warn_student"
    assert resolved["data"]["action"] == "resolve_alert"
    [warn] = audit("warn_student")
    assert warn.actor == live["proctor"]
    assert warn.details == {"message": "Eyes on your screen", "count": 1}
    [resolve] = audit("alert_resolve")
    assert (resolve.actor, resolve.target_id) == (live["proctor"], str(alert.pk))
    assert resolve.details["note"] == "ok"


class TestAuditAdmin:
    @pytest.fixture
    def admin_client(self, client, live):
        superuser = ProctorFactory(is_superuser=True)
        client.force_login(superuser)
        for status in ("clean", "violation"):
            from exams.reviews import session_review

            session_review(
                session=live["session"],
                by=live["proctor"],
                review_status=status,
                note=f"=cmd|{status}",
                reason_code="other",
            )
        return client

    def test_the_trail_is_listed_filtered_and_searched(self, admin_client, live):
        listing = admin_client.get("/admin/accounts/auditentry/")
        filtered = admin_client.get("/admin/accounts/auditentry/?action=session_review")
        searched = admin_client.get(f"/admin/accounts/auditentry/?q={live['proctor'].email}")

        assert listing.status_code == filtered.status_code == searched.status_code == 200
        assert filtered.context["cl"].result_count == 2
        assert searched.context["cl"].result_count == 2

    def test_export_is_a_csv_of_the_selected_entries_safe_for_spreadsheets(self, admin_client, live):
        ids = [str(pk) for pk in AuditEntry.objects.values_list("id", flat=True)]

        response = admin_client.post("/admin/accounts/auditentry/", {"action": "export_csv", "_selected_action": ids})

        assert response.status_code == 200
        assert response["Content-Type"].startswith("text/csv")
        rows = list(csv.DictReader(io.StringIO(response.content.decode())))
        assert [row["action"] for row in rows] == ["session_review", "session_review"]
        assert rows[0]["actor_email"] == live["proctor"].email
        assert '"to": "clean"' in rows[0]["details"]
        assert rows[0]["details"].startswith("{")  # JSON, and no cell starts with a formula

    def test_exporting_the_trail_is_itself_audited(self, admin_client, live):
        ids = sorted(AuditEntry.objects.values_list("id", flat=True))
        admin_client.post("/admin/accounts/auditentry/", {"action": "export_csv", "_selected_action": ids})
        [entry] = audit("export_csv")
        assert entry.actor.is_superuser
        assert entry.target_type == "auditentry"
        assert entry.details == {"count": 2, "ids": ids}

    def test_nobody_can_edit_or_delete_an_entry(self, admin_client):
        entry = AuditEntry.objects.first()

        assert admin_client.post(f"/admin/accounts/auditentry/{entry.pk}/delete/", {"post": "yes"}).status_code == 403
        assert AuditEntry.objects.filter(pk=entry.pk).exists()


# --- retention ---------------------------------------------------------------------------------


def _event(session, *, days_ago: float, client_event_id: str) -> Event:
    activity = Activity(exam_id=session.exam_id, event_type="tab_switch", payload={}, client_event_id=client_event_id)
    (outcome,) = events_ingest([IngestRequest(session.pk, activity)], at=timezone.now() - timedelta(days=days_ago))
    return outcome.event


class TestPurgeEvents:
    @pytest.fixture
    def aged(self, live):
        # The session must be open when each event arrives; a long exam makes "days ago" plausible.
        session = live["session"]
        ExamSession.objects.filter(pk=session.pk).update(
            started_at=timezone.now() - timedelta(days=100), deadline_at=timezone.now() + timedelta(days=1)
        )
        session.refresh_from_db()
        old = [_event(session, days_ago=90 - i * 0.01, client_event_id=f"old-{i}") for i in range(5)]
        new = [_event(session, days_ago=1, client_event_id=f"new-{i}") for i in range(3)]
        return old, new

    def test_the_default_is_a_dry_run_that_deletes_nothing(self, aged):
        out = io.StringIO()

        call_command("purge_events", "--older-than", "30", stdout=out)

        assert "Dry run: 5 event(s)" in out.getvalue()
        assert Event.objects.count() == 8

    def test_yes_deletes_only_events_older_than_the_cutoff_in_batches(self, aged):
        _old, new = aged
        out, err = io.StringIO(), Terminal()

        call_command("purge_events", "--older-than", "30", "--yes", "--batch-size", "2", stdout=out, stderr=err)

        assert "Deleted 5 event(s)" in out.getvalue()
        assert set(Event.objects.values_list("pk", flat=True)) == {e.pk for e in new}
        assert "5/5" in err.getvalue()  # on a terminal, the progress bar reached the total

    def test_a_purge_is_audited_with_who_the_cutoff_and_the_count_and_a_dry_run_is_not(self, aged, live):
        call_command("purge_events", "--older-than", "30", stdout=io.StringIO())
        assert not audit("events_purge")

        call_command(
            "purge_events", "--older-than", "30", "--yes", "--batch-size", "2", "--by", live["proctor"].email,
            "--no-progress", stdout=io.StringIO(),
        )  # fmt: skip

        [entry] = audit("events_purge")
        assert entry.actor == live["proctor"] and entry.target_type == "event"
        assert entry.details["deleted"] == 5 and entry.details["older_than_days"] == 30 and entry.details["finished"]

    @pytest.mark.parametrize("days", ["0", "-3"])
    def test_a_non_positive_age_is_refused(self, db, days):
        with pytest.raises(CommandError, match="at least 1 day"):
            call_command("purge_events", "--older-than", days, "--yes")


class TestDeleteStudentData:
    @pytest.fixture
    def finished(self, live):
        session = live["session"]
        _event(session, days_ago=0, client_event_id="e-1")
        alert_raise(
            session=session,
            alert_type="risk_threshold",
            risk_score=0.8,
            risk_level="high",
            severity="high",
            message="Risk",
            components={},
        )
        baseline_add_sample(user=live["student"], sample={"typing_speed_wpm": 40})
        session_submit(session=session, answers={"q1": "4"})
        other = StudentFactory()
        other_session = session_start(exam=live["exam"], user=other)
        _event(other_session, days_ago=0, client_event_id="keep-1")
        return {**live, "other_session": other_session}

    def test_dry_run_reports_and_keeps_everything(self, finished):
        out = io.StringIO()

        call_command("delete_student_data", "--email", finished["student"].email, stdout=out)

        assert "Dry run: would erase 1 event(s), 1 alert(s) across 1 session(s), a baseline" in out.getvalue()
        assert Event.objects.filter(session=finished["session"]).exists()
        assert not audit("student_data_delete")

    def test_yes_erases_behaviour_keeps_results_and_records_who_asked(self, finished):
        student, session = finished["student"], finished["session"]

        call_command(
            "delete_student_data",
            "--email",
            student.email,
            "--by",
            finished["proctor"].email,
            "--reason",
            "GDPR request #42",
            "--yes",
            stdout=io.StringIO(),
        )

        assert not Event.objects.filter(session=session).exists()
        assert not Alert.objects.filter(session=session).exists()
        assert not Baseline.objects.filter(user=student).exists()
        session.refresh_from_db()
        assert session.behaviour == {} and session.risk_components == {}
        assert session.status == "flagged" and session.score is not None  # the exam record (and verdict) stays
        assert Event.objects.filter(session=finished["other_session"]).count() == 1  # other students untouched
        [entry] = audit("student_data_delete")
        assert entry.actor == finished["proctor"]
        assert entry.details["reason"] == "GDPR request #42"
        assert entry.details["events"] == 1

    def test_erasing_during_an_exam_in_progress_is_refused(self, live):
        with pytest.raises(CommandError, match="in progress"):
            call_command("delete_student_data", "--email", live["student"].email, "--yes", stdout=io.StringIO())
        assert not audit("student_data_delete")

    def test_an_unknown_student_is_an_error_not_a_crash(self, db):
        with pytest.raises(CommandError, match="No such student"):
            call_command("delete_student_data", "--email", "nobody@example.org")
