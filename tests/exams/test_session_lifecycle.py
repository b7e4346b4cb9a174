"""The session lifecycle over REST: start, autosave, submit, grading, lateness, expiry, review."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from accounts.models import AuditEntry
from exams import signals
from exams.models import ExamSession
from exams.sessions import (
    session_alert_closed,
    session_alert_opened,
    session_expire_if_due,
    session_start,
    session_submit,
)
from tests.exams.conftest import age_session, assert_no_answer_key, make_exam

pytestmark = pytest.mark.django_db

RIGHT = {"q1": "4", "q2": ["5", "2"], "q3": "Disorder, roughly."}


def start(client, exam):
    return client.post(f"/api/exams/{exam.pk}/start")


class TestStart:
    def test_start_creates_one_session_with_a_deadline_and_answer_free_questions(self, api_client, exam, student):
        response = start(api_client(student), exam)
        assert response.status_code == 201
        data = response.json()["data"]
        session = ExamSession.objects.get(pk=data["id"])
        assert session.user == student and session.status == "in_progress"
        assert session.deadline_at - session.started_at == timedelta(minutes=30)
        assert data["deadline_at"] and 1790 <= data["remaining_seconds"] <= 1800
        assert [q["id"] for q in data["exam"]["questions"]] == ["q1", "q2", "q3"]
        assert_no_answer_key(response)

    def test_second_start_returns_the_same_open_session(self, api_client, exam, student):
        client = api_client(student)
        first = start(client, exam).json()["data"]["id"]
        again = start(client, exam)
        assert again.status_code == 200
        assert again.json()["data"]["id"] == first
        assert "continuing" in again.json()["message"]
        assert ExamSession.objects.filter(exam=exam, user=student).count() == 1

    @pytest.mark.parametrize("status", ["scheduled", "completed"])
    def test_an_exam_that_is_not_active_cannot_be_started(self, api_client, proctor, student, status):
        exam = make_exam(proctor, status=status)
        session_start_response = start(api_client(student), exam)
        # A scheduled/completed exam is not even visible to a student who never took it.
        assert session_start_response.status_code == 404
        assert not ExamSession.objects.exists()

    def test_an_active_exam_scheduled_in_the_future_is_not_open_yet(self, api_client, proctor, student):
        exam = make_exam(proctor, scheduled_date=timezone.now() + timedelta(hours=1))
        response = start(api_client(student), exam)
        assert response.status_code == 409
        assert response.json()["error"] == "This exam is not open for taking."
        assert not ExamSession.objects.exists()

    def test_a_proctor_cannot_start_an_exam(self, api_client, exam, proctor):
        response = start(api_client(proctor), exam)
        assert response.status_code == 403
        assert not ExamSession.objects.exists()

    @pytest.mark.parametrize(
        ("accommodations", "minutes"),
        [({"extra_time_pct": 50}, 45), ({"extra_minutes": 10}, 40), ({"extra_time_pct": 50, "extra_minutes": 5}, 50)],
    )
    def test_the_deadline_includes_the_students_extra_time(self, api_client, exam, student, accommodations, minutes):
        student.accommodations = accommodations
        student.save()
        data = start(api_client(student), exam).json()["data"]
        session = ExamSession.objects.get(pk=data["id"])
        assert session.deadline_at - session.started_at == timedelta(minutes=minutes)

    def test_a_finished_exam_cannot_be_started_again(self, api_client, exam, student):
        client = api_client(student)
        start(client, exam)
        client.post(f"/api/exams/{exam.pk}/submit", {"answers": RIGHT}, format="json")
        again = start(client, exam)
        assert again.status_code == 409
        assert ExamSession.objects.filter(exam=exam, user=student).count() == 1
        assert ExamSession.objects.get().status == "submitted"


class TestAutosave:
    def test_put_replaces_and_patch_merges_the_saved_answers(self, api_client, exam, student):
        client = api_client(student)
        session_id = start(client, exam).json()["data"]["id"]
        url = f"/api/exams/sessions/{session_id}/answers"
        assert client.put(url, {"answers": {"q1": "3"}}, format="json").status_code == 200
        response = client.patch(url, {"answers": {"q2": ["2"]}}, format="json")
        assert response.status_code == 200
        assert response.json()["data"]["answers"] == {"q1": "3", "q2": ["2"]}
        client.put(url, {"answers": {"q3": "text"}}, format="json")
        session = ExamSession.objects.get(pk=session_id)
        assert session.answers == {"q3": "text"}
        assert session.answers_saved_at is not None
        assert_no_answer_key(response)

    def test_a_reconnecting_student_sees_the_saved_answers(self, api_client, exam, student):
        client = api_client(student)
        session_id = start(client, exam).json()["data"]["id"]
        client.put(f"/api/exams/sessions/{session_id}/answers", {"answers": {"q1": "4"}}, format="json")
        resumed = start(api_client(student), exam).json()["data"]
        assert resumed["id"] == session_id
        assert resumed["answers"] == {"q1": "4"}

    @pytest.mark.parametrize(
        "body",
        [
            {"answers": {"nope": "4"}},
            {"answers": {"q1": "42"}},
            {"answers": {"q2": "2"}},
            {"answers": ["q1"]},
            {"answers": {"q3": "x" * 20001}},
            {},
        ],
    )
    def test_answers_that_do_not_fit_the_questions_get_a_400(self, api_client, exam, student, body):
        client = api_client(student)
        session_id = start(client, exam).json()["data"]["id"]
        response = client.put(f"/api/exams/sessions/{session_id}/answers", body, format="json")
        assert response.status_code == 400
        assert response.json()["error"]
        assert ExamSession.objects.get(pk=session_id).answers == {}

    def test_autosave_after_submit_is_refused(self, api_client, exam, student):
        client = api_client(student)
        session_id = start(client, exam).json()["data"]["id"]
        client.post(f"/api/exams/{exam.pk}/submit", {"answers": {"q1": "4"}}, format="json")
        response = client.put(f"/api/exams/sessions/{session_id}/answers", {"answers": {"q1": "3"}}, format="json")
        assert response.status_code == 409
        assert ExamSession.objects.get(pk=session_id).answers == {"q1": "4"}


class TestSubmit:
    def test_submit_grades_on_the_server_and_measures_time_itself(self, api_client, exam, student):
        client = api_client(student)
        start(client, exam)
        response = client.post(f"/api/exams/{exam.pk}/submit", {"answers": RIGHT, "time_taken": 5}, format="json")
        assert response.status_code == 200
        data = response.json()["data"]
        assert (data["score"], data["max_score"], data["pending_manual_points"]) == (3, 6, 3)
        assert data["status"] == "submitted" and data["is_late"] is False
        session = ExamSession.objects.get(pk=data["id"])
        assert session.client_time_taken_seconds == 5
        assert session.time_taken_seconds is not None and session.time_taken_seconds < 5
        assert session.grading["per_question"]["q1"]["correct"] is True
        assert_no_answer_key(response)

    def test_a_second_submit_returns_the_same_result_and_grades_once(self, api_client, exam, student):
        client = api_client(student)
        start(client, exam)
        first = client.post(f"/api/exams/{exam.pk}/submit", {"answers": RIGHT}, format="json").json()["data"]
        second = client.post(f"/api/exams/{exam.pk}/submit", {"answers": {"q1": "3"}}, format="json")
        assert second.status_code == 200
        assert "already" in second.json()["message"]
        assert second.json()["data"]["score"] == first["score"] == 3
        assert second.json()["data"]["submitted_at"] == first["submitted_at"]
        assert ExamSession.objects.get().answers["q1"] == "4"

    def test_submit_without_answers_uses_the_autosaved_ones(self, api_client, exam, student):
        client = api_client(student)
        session_id = start(client, exam).json()["data"]["id"]
        client.put(f"/api/exams/sessions/{session_id}/answers", {"answers": {"q1": "4"}}, format="json")
        data = client.post(f"/api/exams/{exam.pk}/submit", {}, format="json").json()["data"]
        assert data["score"] == 1
        assert data["answers"] == {"q1": "4"}

    def test_submit_before_start_is_a_409(self, api_client, exam, student):
        response = api_client(student).post(f"/api/exams/{exam.pk}/submit", {"answers": {}}, format="json")
        assert response.status_code == 409
        assert not ExamSession.objects.exists()

    def test_a_submission_within_the_grace_is_on_time(self, api_client, exam, student):
        client = api_client(student)
        start(client, exam)
        age_session(ExamSession.objects.get(), past_deadline=timedelta(seconds=30))
        data = client.post(f"/api/exams/{exam.pk}/submit", {"answers": RIGHT}, format="json").json()["data"]
        assert data["is_late"] is False and data["auto_submitted"] is False and data["score"] == 3

    def test_a_submission_after_deadline_and_grace_is_accepted_but_late(self, exam, student):
        started = timezone.now()
        session = session_start(exam=exam, user=student, at=started)
        late = session.deadline_at + timedelta(seconds=61)
        result = session_submit(session=session, answers=RIGHT, at=late)
        assert result.status == "submitted" and result.is_late and not result.auto_submitted
        assert result.score == 3
        assert result.time_taken_seconds == 30 * 60 + 61

    def test_a_session_with_an_open_high_alert_ends_flagged(self, api_client, exam, student):
        client = api_client(student)
        session_id = start(client, exam).json()["data"]["id"]
        session = ExamSession.objects.get(pk=session_id)
        session_alert_opened(session=session)
        session_alert_opened(session=session)
        session_alert_closed(session=session)
        data = client.post(f"/api/exams/{exam.pk}/submit", {"answers": RIGHT}, format="json").json()["data"]
        assert data["status"] == "flagged"
        assert ExamSession.objects.get(pk=session_id).open_high_alerts == 1

    def test_alert_count_never_goes_below_zero(self, exam, student):
        session = session_start(exam=exam, user=student)
        assert session_alert_closed(session=session).open_high_alerts == 0

    def test_submit_sends_the_signal_after_commit(self, exam, student, django_capture_on_commit_callbacks):
        received = []
        signals.session_submitted.connect(
            lambda sender, session, **kw: received.append(session.pk), weak=False, dispatch_uid="test-receiver"
        )
        try:
            session = session_start(exam=exam, user=student)
            with django_capture_on_commit_callbacks(execute=True) as callbacks:
                session_submit(session=session, answers={})
                assert received == []
            # Submit's one hook sends the signal; monitoring's receiver then hands its push to
            # pushes.send_after_commit (which sends at once after a real commit; the test's
            # surrounding transaction makes it a second hook here).
            assert len(callbacks) == 2
            assert received == [session.pk]
        finally:
            # Only our receiver: monitoring's must stay connected for later tests.
            signals.session_submitted.disconnect(dispatch_uid="test-receiver")


class TestExpiry:
    def test_reading_an_overdue_session_submits_it_with_the_saved_answers(self, api_client, exam, student):
        client = api_client(student)
        session_id = start(client, exam).json()["data"]["id"]
        client.put(f"/api/exams/sessions/{session_id}/answers", {"answers": {"q1": "4"}}, format="json")
        age_session(ExamSession.objects.get(pk=session_id), past_deadline=timedelta(minutes=5))
        response = client.get(f"/api/exams/sessions/{session_id}")
        data = response.json()["data"]
        assert data["status"] == "submitted" and data["auto_submitted"] is True and data["is_late"] is False
        assert data["score"] == 1
        session = ExamSession.objects.get(pk=session_id)
        assert session.time_taken_seconds == 30 * 60
        assert_no_answer_key(response)

    def test_listing_sessions_closes_overdue_ones(self, api_client, exam, student):
        client = api_client(student)
        session_id = start(client, exam).json()["data"]["id"]
        age_session(ExamSession.objects.get(pk=session_id), past_deadline=timedelta(minutes=2))
        data = client.get("/api/exams/sessions").json()["data"]
        assert [(s["id"], s["status"], s["auto_submitted"]) for s in data] == [(session_id, "submitted", True)]

    def test_an_expired_session_never_reopens(self, api_client, exam, student):
        client = api_client(student)
        session_id = start(client, exam).json()["data"]["id"]
        age_session(ExamSession.objects.get(pk=session_id), past_deadline=timedelta(minutes=2))
        assert start(client, exam).status_code == 409
        put = client.put(f"/api/exams/sessions/{session_id}/answers", {"answers": {"q1": "4"}}, format="json")
        assert put.status_code == 409
        submit = client.post(f"/api/exams/{exam.pk}/submit", {"answers": {"q1": "4"}}, format="json")
        assert submit.status_code == 200 and submit.json()["data"]["score"] == 0
        session = ExamSession.objects.get(pk=session_id)
        assert session.status == "submitted" and session.auto_submitted and session.answers == {}

    def test_expiry_with_an_open_high_alert_ends_flagged(self, exam, student):
        session = session_start(exam=exam, user=student)
        session_alert_opened(session=session)
        closed = session_expire_if_due(session=session, at=session.deadline_at + timedelta(minutes=2))
        assert closed.status == "flagged" and closed.auto_submitted

    def test_the_command_closes_only_overdue_sessions(self, proctor, exam, student, other_student):
        overdue = age_session(session_start(exam=exam, user=student), past_deadline=timedelta(minutes=2))
        fresh = session_start(exam=exam, user=other_student)
        out = StringIO()
        call_command("close_expired_sessions", stdout=out)
        assert "Closed 1 expired session(s)." in out.getvalue()
        overdue.refresh_from_db()
        fresh.refresh_from_db()
        assert overdue.status == "submitted" and overdue.auto_submitted
        assert fresh.status == "in_progress"


class TestProctorActions:
    def test_review_is_recorded_with_who_and_from_what_to_what(self, api_client, exam, student, proctor):
        session = session_start(exam=exam, user=student)
        response = api_client(proctor).post(
            f"/api/exams/sessions/{session.pk}/review",
            {"review_status": "suspicious", "note": "Many tab switches.", "reason_code": "tab_switching"},
            format="json",
        )
        assert response.status_code == 200
        session.refresh_from_db()
        assert (session.review_status, session.review_note, session.reviewed_by) == (
            "suspicious",
            "Many tab switches.",
            proctor,
        )
        entry = AuditEntry.objects.get(action="session_review")
        assert entry.actor == proctor and entry.target_id == str(session.pk)
        assert entry.details == {
            "from": "pending",
            "to": "suspicious",
            "note": "Many tab switches.",
            "reason_code": "tab_switching",
        }

    @pytest.mark.parametrize("body", [{"review_status": "guilty"}, {}, {"review_status": "clean", "note": "x" * 2001}])
    def test_bad_review_input_is_a_400(self, api_client, exam, student, proctor, body):
        session = session_start(exam=exam, user=student)
        response = api_client(proctor).post(f"/api/exams/sessions/{session.pk}/review", body, format="json")
        assert response.status_code == 400
        assert not AuditEntry.objects.exists()

    @pytest.mark.parametrize("status", ["suspicious", "violation"])
    @pytest.mark.parametrize("note", [None, "", "   "])
    def test_a_suspicious_or_violation_review_needs_a_note(self, api_client, exam, student, proctor, status, note):
        session = session_start(exam=exam, user=student)
        body = {"review_status": status} if note is None else {"review_status": status, "note": note}
        response = api_client(proctor).post(f"/api/exams/sessions/{session.pk}/review", body, format="json")
        assert response.status_code == 400
        assert response.json()["error"] == "Say why: a note is required for a suspicious or violation outcome."
        assert response.json()["details"] == {
            "code": "note_required",
            "note": ["required for suspicious and violation"],
        }
        session.refresh_from_db()
        assert session.review_status == "pending"
        assert not AuditEntry.objects.exists()

    def test_terminate_ends_the_session_flagged_with_the_reason(
        self, api_client, exam, student, proctor, django_capture_on_commit_callbacks
    ):
        received = []
        signals.session_terminated.connect(
            lambda sender, **kw: received.append(kw), weak=False, dispatch_uid="test-receiver"
        )
        try:
            session = session_start(exam=exam, user=student)
            with django_capture_on_commit_callbacks(execute=True):
                response = api_client(proctor).post(
                    f"/api/exams/sessions/{session.pk}/terminate",
                    {"reason": "Phone in hand.", "reason_code": "phone_use"},
                    format="json",
                )
            assert response.status_code == 200
            session.refresh_from_db()
            assert session.status == "flagged" and session.terminated_by == proctor
            assert (session.termination_reason, session.termination_reason_code) == ("Phone in hand.", "phone_use")
            assert AuditEntry.objects.filter(action="session_terminate", actor=proctor).count() == 1
            assert [(kw["session"].pk, kw["by"], kw["reason"]) for kw in received] == [
                (session.pk, proctor, "Phone in hand.")
            ]
            again = api_client(proctor).post(
                f"/api/exams/sessions/{session.pk}/terminate",
                {"reason": "again", "reason_code": "other"},
                format="json",
            )
            assert again.status_code == 409
        finally:
            # Only our receiver: monitoring's must stay connected for later tests.
            signals.session_terminated.disconnect(dispatch_uid="test-receiver")
