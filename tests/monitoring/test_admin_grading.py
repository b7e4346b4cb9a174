"""Grading short answers on the admin review console: the form beside the reference, grading through
it (the same service as REST), and the "Needs grading" list filter."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import AuditEntry
from accounts.services import proctor_add_to_group
from exams.grading import session_grade
from exams.models import Course, CourseStaff, ExamSession, SessionReview
from exams.sessions import session_reset, session_start, session_submit
from tests.factories import ProctorFactory, StudentFactory
from tests.monitoring.conftest import QUESTIONS, make_exam

pytestmark = pytest.mark.django_db

SHORT = [
    *QUESTIONS,
    {"id": "q3", "text": "Explain entropy.", "type": "short", "answer": "REFERENCE-ENTROPY", "points": 3},
    {"id": "q4", "text": "Define work.", "type": "short", "answer": "REFERENCE-WORK", "points": 2},
]


@pytest.fixture
def console(proctor) -> Client:
    assert proctor_add_to_group(user=proctor)
    client = Client()
    client.force_login(proctor)
    return client


def finished(exam, student=None, answers=None) -> ExamSession:
    session = session_start(exam=exam, user=student or StudentFactory())
    return session_submit(
        session=session, answers=answers or {"q1": "4", "q3": "STUDENT-ENTROPY", "q4": "STUDENT-WORK"}
    )


def page(client, session):
    return client.get(reverse("admin:exams_examsession_change", args=[session.pk]))


def grade_url(session) -> str:
    return reverse("admin:exams_examsession_grade", args=[session.pk])


def test_the_session_page_shows_each_short_answer_beside_its_reference_and_max_points(console, proctor):
    session = finished(make_exam(proctor, questions=SHORT))
    response = page(console, session)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="grading"' in html and "Needs grading" in html
    for answer, reference in (("STUDENT-ENTROPY", "REFERENCE-ENTROPY"), ("STUDENT-WORK", "REFERENCE-WORK")):
        row = html[html.index(answer) :]
        assert row.index(reference) < row.index("</tr>")
    assert "Points for q3 (0 to 3)" in html and 'name="points_0"' in html and 'name="points_1"' in html
    assert grade_url(session) in html
    # The mcq and multi questions are graded by the server: no input for them.
    assert 'name="points_2"' not in html


def test_grading_through_the_form_uses_the_service_and_recomputes_the_score(console, proctor):
    session = finished(make_exam(proctor, questions=SHORT))
    response = console.post(grade_url(session), {"points_0": "2.5", "points_1": "", "note": "Half the units."})
    assert response.status_code == 302 and response["Location"].endswith("#grading")
    session.refresh_from_db()
    assert (session.score, session.grading_status) == (3.5, "pending")
    review = SessionReview.objects.get(session=session)
    assert (review.kind, review.by, review.note, review.details["scores"]) == (
        "grading",
        proctor,
        "Half the units.",
        {"q3": 2.5},
    )
    assert AuditEntry.objects.filter(action="session_grade", actor=proctor).count() == 1

    # The page now shows the points given; the second question completes the grading.
    html = page(console, session).content.decode()
    assert 'value="2.5"' in html
    console.post(grade_url(session), {"points_0": "2.5", "points_1": "2", "note": ""})
    session.refresh_from_db()
    assert (session.score, session.grading_status) == (5.5, "complete")
    # Unchanged points are not regraded: the second grading recorded only q4.
    assert SessionReview.objects.filter(session=session).last().details["scores"] == {"q4": 2}


@pytest.mark.parametrize("value", ["4", "-1", "abc", "nan", "inf"])
def test_bad_points_in_the_form_are_refused_with_a_message(console, proctor, value):
    session = finished(make_exam(proctor, questions=SHORT))
    response = console.post(grade_url(session), {"points_0": value}, follow=True)
    assert "Grading not saved" in response.content.decode()
    session.refresh_from_db()
    assert session.grading_status == "pending" and not SessionReview.objects.exists()


def test_an_empty_form_changes_nothing(console, proctor):
    session = finished(make_exam(proctor, questions=SHORT))
    response = console.post(grade_url(session), {"points_0": "", "points_1": ""}, follow=True)
    assert "Nothing to save" in response.content.decode()
    assert not SessionReview.objects.exists()


def test_an_open_session_shows_no_grading_form_and_refuses_a_post(console, proctor):
    session = session_start(exam=make_exam(proctor, questions=SHORT), user=StudentFactory())
    html = page(console, session).content.decode()
    assert "can be graded once the session has ended" in html and 'name="points_0"' not in html
    response = console.post(grade_url(session), {"points_0": "1"}, follow=True)
    assert "still in progress" in response.content.decode()
    assert not SessionReview.objects.exists()


def test_an_exam_without_short_questions_has_no_grading_section(console, proctor):
    session = finished(make_exam(proctor), answers={"q1": "4"})
    assert 'id="grading"' not in page(console, session).content.decode()


def test_grading_is_post_only_and_scoped(console, proctor):
    course = Course.objects.create(code="CHEM1", name="Chemistry")
    CourseStaff.objects.create(course=course, user=ProctorFactory())
    session = finished(make_exam(proctor, questions=SHORT, course=None))
    assert console.get(grade_url(session)).status_code == 403
    hidden = finished(make_exam(proctor, questions=SHORT, course=course, name="Chem"))
    # The console proctor does not staff the course: the session does not exist for them.
    assert console.post(grade_url(hidden), {"points_0": "1"}).status_code == 404
    assert not SessionReview.objects.exists()


def test_the_needs_grading_filter_lists_pending_attempts_only(console, proctor):
    exam = make_exam(proctor, questions=SHORT)
    pending = finished(exam)
    graded = finished(exam)
    session_grade(session=graded, by=proctor, scores={"q3": 3, "q4": 2})
    auto = finished(make_exam(proctor, name="MCQ only"), answers={"q1": "4"})
    reset = finished(exam)
    session_reset(session=reset, by=proctor, reason="Wrong room.")
    url = reverse("admin:exams_examsession_changelist")

    def listed(query: str) -> set[int]:
        response = console.get(f"{url}?{query}")
        assert response.status_code == 200
        return {row.pk for row in response.context["cl"].result_list}

    assert listed("grading_status=pending") == {pending.pk}
    # Reset attempts never need grading, even when listed with them.
    assert listed("grading_status=pending&voided=all") == {pending.pk}
    assert listed("grading_status=complete") == {graded.pk}
    assert listed("grading_status=auto") == {auto.pk}
    assert "Needs grading" in console.get(url).content.decode()
