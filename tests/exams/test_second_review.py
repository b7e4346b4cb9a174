"""A violation needs a second, different proctor: confirm or overturn, with the history kept."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from accounts.models import AuditEntry
from accounts.services import proctor_add_to_group
from exams import signals
from exams.models import Course, CourseStaff, Enrollment, ExamSession, SessionReview
from exams.reviews import session_review
from exams.sessions import session_start
from tests.exams.conftest import make_exam
from tests.factories import ProctorFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def second_proctor(db):
    return ProctorFactory()


@pytest.fixture
def violation(exam, student, proctor, django_capture_on_commit_callbacks):
    session = session_start(exam=exam, user=student)
    with django_capture_on_commit_callbacks(execute=True):
        return session_review(
            session=session,
            by=proctor,
            review_status="violation",
            note="Phone under the desk.",
            reason_code="phone_use",
        )


def _second(api_client, user, session, **body):
    return api_client(user).post(f"/api/exams/sessions/{session.pk}/second-review", body, format="json")


def test_a_violation_requires_a_second_review_and_tells_receivers_inside_its_transaction(
    exam, student, proctor, django_capture_on_commit_callbacks
):
    heard = []
    signals.second_review_required.connect(
        lambda sender, **kw: heard.append((kw, connection.in_atomic_block)),
        weak=False,
        dispatch_uid="test-second-review",
    )
    try:
        session = session_start(exam=exam, user=student)
        # Receivers store outbox rows that must commit with the verdict (exams.signals).
        with django_capture_on_commit_callbacks(execute=False):
            session_review(
                session=session, by=proctor, review_status="violation", note="n", reason_code="impersonation"
            )
        assert [(kw["session"].pk, kw["by"], atomic) for kw, atomic in heard] == [(session.pk, proctor, True)]
    finally:
        signals.second_review_required.disconnect(dispatch_uid="test-second-review")
    session.refresh_from_db()
    assert session.second_review == "required"
    [row] = SessionReview.objects.filter(session=session)
    assert (row.kind, row.by, row.review_status, row.reason_code) == ("verdict", proctor, "violation", "impersonation")


def test_the_verdicts_author_cannot_give_the_second_review(api_client, proctor, violation):
    response = _second(api_client, proctor, violation, decision="confirm")
    assert response.status_code == 403
    assert response.json()["details"]["code"] == "same_reviewer"
    assert ExamSession.objects.get(pk=violation.pk).second_review == "required"


def test_another_proctor_confirms_and_both_steps_stay_in_the_history(api_client, proctor, second_proctor, violation):
    response = _second(api_client, second_proctor, violation, decision="confirm", note="Agree: visible on camera.")
    assert response.status_code == 200
    assert response.json()["data"]["second_review"] == "confirmed"
    session = ExamSession.objects.get(pk=violation.pk)
    assert (session.review_status, session.reviewed_by) == ("violation", proctor)
    detail = api_client(second_proctor).get(f"/api/exams/sessions/{session.pk}").json()["data"]
    steps = [(s["kind"], s["by"]["id"], s["review_status"], s["decision"], s["note"]) for s in detail["reviews"]]
    assert steps == [
        ("verdict", proctor.pk, "violation", "", "Phone under the desk."),
        ("second_review", second_proctor.pk, "violation", "confirm", "Agree: visible on camera."),
    ]
    assert AuditEntry.objects.get(action="session_second_review").details["decision"] == "confirm"
    # A confirmed violation is final: no second second review, no plain verdict over it.
    assert _second(api_client, second_proctor, session, decision="confirm").status_code == 409
    again = api_client(second_proctor).post(
        f"/api/exams/sessions/{session.pk}/review", {"review_status": "clean"}, format="json"
    )
    assert again.status_code == 409 and again.json()["details"]["code"] == "verdict_confirmed"


def test_another_proctor_overturns_to_suspicious_with_a_reason(api_client, proctor, second_proctor, violation):
    assert _second(api_client, second_proctor, violation, decision="overturn", note="why").status_code == 400
    no_reason = _second(
        api_client, second_proctor, violation, decision="overturn", review_status="suspicious", note="Not sure."
    )
    assert no_reason.status_code == 400 and no_reason.json()["details"]["code"] == "reason_required"
    no_note = _second(api_client, second_proctor, violation, decision="overturn", review_status="clean")
    assert no_note.status_code == 400
    response = _second(
        api_client,
        second_proctor,
        violation,
        decision="overturn",
        review_status="suspicious",
        reason_code="looking_away",
        note="Looking away, no device seen.",
    )
    assert response.status_code == 200
    session = ExamSession.objects.get(pk=violation.pk)
    assert (session.second_review, session.review_status, session.review_reason_code, session.reviewed_by) == (
        "overturned",
        "suspicious",
        "looking_away",
        second_proctor,
    )
    history = list(SessionReview.objects.filter(session=session).values_list("kind", "review_status", "note"))
    assert history == [
        ("verdict", "violation", "Phone under the desk."),
        ("second_review", "suspicious", "Looking away, no device seen."),
    ]


def test_a_second_review_is_a_409_unless_one_is_required(api_client, exam, student, proctor, second_proctor):
    session = session_start(exam=exam, user=student)
    assert _second(api_client, second_proctor, session, decision="confirm").status_code == 409
    session_review(session=session, by=proctor, review_status="suspicious", note="n", reason_code="talking")
    response = _second(api_client, second_proctor, session, decision="confirm")
    assert response.status_code == 409
    assert response.json()["details"]["code"] == "second_review_not_required"


def test_a_plain_verdict_cannot_bypass_a_waiting_second_review(api_client, second_proctor, violation):
    response = api_client(second_proctor).post(
        f"/api/exams/sessions/{violation.pk}/review", {"review_status": "clean"}, format="json"
    )
    assert response.status_code == 409 and response.json()["details"]["code"] == "second_review_pending"


def test_students_cannot_review(api_client, student, violation):
    assert _second(api_client, student, violation, decision="confirm").status_code == 403


def test_a_proctor_outside_the_course_gets_404(api_client, proctor, student):
    course = Course.objects.create(code="PHY-1", name="Physics")
    CourseStaff.objects.create(course=course, user=proctor)
    Enrollment.objects.create(course=course, student=student)
    exam = make_exam(proctor, course=course)
    session = session_start(exam=exam, user=student)
    session_review(session=session, by=proctor, review_status="violation", note="n", reason_code="phone_use")
    outsider = ProctorFactory()
    assert _second(api_client, outsider, session, decision="confirm").status_code == 404
    staff = ProctorFactory()
    CourseStaff.objects.create(course=course, user=staff)
    assert _second(api_client, staff, session, decision="confirm").status_code == 200


class TestAdmin:
    @pytest.fixture
    def console(self, second_proctor):
        assert proctor_add_to_group(user=second_proctor)
        client = Client()
        client.force_login(second_proctor)
        return client

    def test_the_queue_filters_on_a_waiting_second_look_and_on_reasons(self, console, exam, other_student, violation):
        other = session_start(exam=exam, user=other_student)
        url = reverse("admin:exams_examsession_changelist")
        waiting = console.get(url, {"second_review": "required"})
        assert waiting.status_code == 200
        assert [s.pk for s in waiting.context["cl"].result_list] == [violation.pk]
        assert "Waiting for a second look" in waiting.content.decode()
        by_reason = console.get(url, {"review_reason_code": "phone_use"})
        assert [s.pk for s in by_reason.context["cl"].result_list] == [violation.pk]
        assert other.pk in [s.pk for s in console.get(url).context["cl"].result_list]

    def test_the_session_page_shows_the_history_and_takes_a_second_review(self, console, second_proctor, violation):
        page = console.get(reverse("admin:exams_examsession_change", args=[violation.pk]))
        html = page.content.decode()
        assert page.status_code == 200
        assert (
            'id="second-review"' in html and "Phone under the desk." in html and "Phone or other device in use" in html
        )
        response = console.post(
            reverse("admin:exams_examsession_second_review", args=[violation.pk]),
            {"decision": "overturn", "review_status": "clean", "reason_code": "", "note": "Was a calculator."},
        )
        assert response.status_code == 302
        session = ExamSession.objects.get(pk=violation.pk)
        assert (session.second_review, session.review_status, session.reviewed_by) == (
            "overturned",
            "clean",
            second_proctor,
        )

    def test_the_verdicts_author_is_not_offered_the_second_review_form(self, proctor, violation):
        assert proctor_add_to_group(user=proctor)
        client = Client()
        client.force_login(proctor)
        html = client.get(reverse("admin:exams_examsession_change", args=[violation.pk])).content.decode()
        assert 'id="second-review"' not in html and 'id="review-history"' in html
        client.post(
            reverse("admin:exams_examsession_second_review", args=[violation.pk]),
            {"decision": "confirm", "note": ""},
        )
        assert ExamSession.objects.get(pk=violation.pk).second_review == "required"

    def test_the_review_form_offers_the_reasons_and_needs_one_for_a_violation(self, console, exam, other_student):
        session = session_start(exam=exam, user=other_student)
        page = console.get(reverse("admin:exams_examsession_change", args=[session.pk])).content.decode()
        assert 'name="reason_code"' in page and 'value="unauthorised_person"' in page
        url = reverse("admin:exams_examsession_review", args=[session.pk])
        console.post(url, {"review_status": "violation", "note": "seen", "reason_code": ""})
        assert ExamSession.objects.get(pk=session.pk).review_status == "pending"
        console.post(url, {"review_status": "violation", "note": "seen", "reason_code": "second_screen"})
        session.refresh_from_db()
        assert (session.review_status, session.review_reason_code, session.second_review) == (
            "violation",
            "second_screen",
            "required",
        )
