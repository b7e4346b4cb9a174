"""Enrolling a student in one's own course gives no reach into their other courses (issue 22, item 2):
not their baseline, not their time. Imports only what the issue's version of ExamPulse had, so the
test fails there for the reason the issue gives."""

from __future__ import annotations

from datetime import timedelta

import pytest

from exams.models import Course, CourseStaff, Enrollment
from exams.sessions import session_start
from scoring.services import baseline_add_sample
from tests.exams.conftest import make_exam
from tests.factories import ProctorFactory, StudentFactory

pytestmark = pytest.mark.django_db

SAMPLE = {"typing_speed_wpm": 40.0, "mouse_speed_pxs": 400.0, "avg_question_time_sec": 60.0}


@pytest.fixture
def campus():
    """Course A: proctor P1, student S1. Course B: proctor P2, student S2 (the issue's set-up)."""
    p1, p2 = ProctorFactory(), ProctorFactory()
    s1, s2 = StudentFactory(), StudentFactory()
    a = Course.objects.create(code="A", name="Course A")
    b = Course.objects.create(code="B", name="Course B")
    CourseStaff.objects.create(course=a, user=p1)
    CourseStaff.objects.create(course=b, user=p2)
    Enrollment.objects.create(course=a, student=s1)
    Enrollment.objects.create(course=b, student=s2)
    return {"P1": p1, "P2": p2, "S1": s1, "S2": s2, "A": a, "B": b}


def minutes(session) -> float:
    return (session.deadline_at - session.started_at) / timedelta(minutes=1)


def test_issue_22_item_2_enrolling_a_student_gives_no_reach_into_their_other_courses(api_client, campus):
    """P2 enrols S1 in course B; P2 then cannot read or reset S1's baseline nor give S1 time in
    course A, and S1's next course-A exam keeps its normal duration."""
    s1 = campus["S1"]
    baseline_add_sample(user=s1, sample=SAMPLE)
    earlier = make_exam(campus["P1"], course=campus["A"], name="Quiz 1")
    session_start(exam=earlier, user=s1)  # S1 has sat course A's exams: P1 may read S1's baseline
    exam_a = make_exam(campus["P1"], course=campus["A"], duration_minutes=30, name="Midterm")
    p2 = api_client(campus["P2"])

    enrol = p2.post(f"/api/courses/{campus['B'].pk}/students", {"emails": [s1.email]}, format="json")
    assert enrol.status_code == 200 and enrol.json()["data"]["added"] == [s1.email]

    assert p2.get(f"/api/baselines/{s1.pk}").status_code == 404
    assert p2.post(f"/api/baselines/{s1.pk}/reset").status_code == 403
    everywhere = p2.patch(f"/api/users/{s1.pk}/accommodations", {"extra_minutes": 120}, format="json")
    assert everywhere.status_code == 403 and everywhere.json()["details"]["code"] == "superuser_only"
    course_a = p2.put(f"/api/courses/{campus['A'].pk}/accommodations/{s1.pk}", {"extra_minutes": 120}, format="json")
    assert course_a.status_code == 404
    exam_level = p2.put(f"/api/exams/{exam_a.pk}/allowances/{s1.pk}", {"extra_minutes": 120}, format="json")
    assert exam_level.status_code == 404
    # What P2 may do reaches course B only.
    course_b = p2.put(f"/api/courses/{campus['B'].pk}/accommodations/{s1.pk}", {"extra_minutes": 120}, format="json")
    assert course_b.status_code == 200

    s1.refresh_from_db()
    assert s1.accommodations == {}
    assert api_client(campus["P1"]).get(f"/api/baselines/{s1.pk}").status_code == 200
    assert minutes(session_start(exam=exam_a, user=s1)) == 30
    exam_b = make_exam(campus["P2"], course=campus["B"], duration_minutes=30, name="B quiz")
    assert minutes(session_start(exam=exam_b, user=s1)) == 150
