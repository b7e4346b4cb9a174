"""The admin as a newcomer meets it: part two's fields shown and exported, no form the service would
refuse, headings and inline rows that name people and exams, and a front page at `/`."""

from __future__ import annotations

import csv
import io

import pytest
from django.test import Client
from django.urls import reverse

from accounts.services import proctor_add_to_group
from exams import reviews
from exams.models import Course, CourseStaff, Enrollment, ExamSession
from exams.sessions import session_start, session_submit
from tests.factories import ProctorFactory
from tests.monitoring.conftest import make_exam

pytestmark = pytest.mark.django_db

VIOLATION = {"review_status": "violation", "note": "Phone in hand.", "reason_code": "phone_use"}


@pytest.fixture
def console(proctor) -> Client:
    assert proctor_add_to_group(user=proctor)
    client = Client()
    client.force_login(proctor)
    return client


@pytest.fixture
def finished(proctor, student) -> ExamSession:
    session = session_submit(
        session=session_start(exam=make_exam(proctor, name="Optics quiz"), user=student), answers={}
    )
    ExamSession.objects.filter(pk=session.pk).update(
        time_compensated_seconds=95, extended_seconds=600, paused_seconds=42, warnings_count=2
    )
    session.refresh_from_db()
    return session


def page(console: Client, session: ExamSession) -> str:
    response = console.get(reverse("admin:exams_examsession_change", args=[session.pk]))
    assert response.status_code == 200
    return response.content.decode()


def test_the_session_page_shows_the_part_two_fields(console, finished):
    html = page(console, finished)
    for label in ("Time compensated seconds", "Warnings count", "Grading status", "Extended seconds", "Voided"):
        assert label in html, label
    assert ">95<" in html and ">600<" in html


def test_the_session_heading_names_the_student_and_the_exam(console, finished, student):
    html = page(console, finished)
    assert f"{student.name} · Optics quiz (session {finished.pk}, submitted)" in html
    assert f"Session {finished.pk} (" not in html


def test_the_csv_export_carries_grading_reasons_second_review_time_control_and_resets(console, proctor, finished):
    reviews.session_review(session=finished, by=proctor, **VIOLATION)
    response = console.post(
        reverse("admin:exams_examsession_changelist"), {"action": "export_csv", "_selected_action": [finished.pk]}
    )
    [row] = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert row["grading_status"] == "auto"
    assert row["review_reason_code"] == "phone_use"
    assert row["second_review"] == "required"
    assert (row["paused_seconds"], row["extended_seconds"], row["time_compensated_seconds"]) == ("42", "600", "95")
    assert row["warnings_count"] == "2"
    assert row["voided"] == "False" and row["void_reason"] == ""
    assert row["deadline_at"] and row["termination_reason_code"] == ""


def test_the_review_form_is_offered_only_while_the_service_would_take_it(console, proctor, finished):
    review_url = reverse("admin:exams_examsession_review", args=[finished.pk])
    assert review_url in page(console, finished)

    reviews.session_review(session=finished, by=proctor, **VIOLATION)
    waiting = page(console, finished)
    assert review_url not in waiting
    assert "waiting for a second look" in waiting

    reviews.session_second_review(session=finished, by=ProctorFactory(), decision="confirm")
    confirmed = page(console, finished)
    assert review_url not in confirmed
    assert "the verdict is final" in confirmed
    # The refusal the form would have met, for the record.
    refused = console.post(review_url, {"review_status": "clean"}, follow=True)
    assert "the verdict is final" in refused.content.decode()


def test_course_inline_rows_name_the_person_and_the_course(console, proctor, student):
    course = Course.objects.create(code="OPT-1", name="Optics", created_by=proctor)
    CourseStaff.objects.create(course=course, user=proctor, added_by=proctor)
    Enrollment.objects.create(course=course, student=student, added_by=proctor)
    html = console.get(reverse("admin:exams_course_change", args=[course.pk])).content.decode()
    assert f"{student.name} in OPT-1" in html
    assert f"{proctor.name} on the staff of OPT-1" in html
    assert " staffs " not in html
    assert f"{student.pk} in {course.pk}" not in html
