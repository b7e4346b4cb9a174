"""`manage.py seed_demo` creates a usable demo once and changes nothing when run again."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from accounts.models import User
from exams.models import Course, CourseStaff, Exam
from monitoring.demo.seed import DEMO_STUDENTS
from scoring.models import Baseline
from scoring.services import baseline_status

pytestmark = pytest.mark.django_db


def seed(*args) -> str:
    out = StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


def test_seed_demo_creates_students_with_ready_baselines_and_active_exams(anon_client):
    output = seed()
    assert "proctor@exampulse.ai" in output and "'password123'" in output and "'student123'" in output
    students = User.objects.filter(role="student")
    assert students.count() == 4
    for baseline in Baseline.objects.filter(user__in=students):
        assert baseline.sample_count >= 3 and baseline_status(baseline) == "ready"
        assert baseline.typing_speed_wpm and baseline.mouse_speed_pxs and baseline.avg_question_time_sec
    demo = Exam.objects.get(is_calibration=False)
    assert demo.status == "active" and {q["type"] for q in demo.questions} == {"mcq", "multi", "short"}
    assert Exam.objects.get(is_calibration=True).status == "active"
    login = anon_client.post("/api/auth/login", {"email": "asha@exampulse.ai", "password": "student123"}, format="json")
    assert login.status_code == 200
    token = login.json()["token"]
    anon_client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert anon_client.get("/api/exams").json()["count"] == 2


def test_seed_demo_is_idempotent():
    seed()
    before = (User.objects.count(), Exam.objects.count(), list(Baseline.objects.values_list("sample_count", flat=True)))
    output = seed()
    after = (User.objects.count(), Exam.objects.count(), list(Baseline.objects.values_list("sample_count", flat=True)))
    assert before == after
    assert "already exists" in output and "Created" not in output


def test_seed_demo_takes_custom_passwords(anon_client):
    seed("--password", "Pr0ctor-Own-Secret", "--student-password", "Stud3nt-Own-Secret")
    ok = anon_client.post(
        "/api/auth/login", {"email": "proctor@exampulse.ai", "password": "Pr0ctor-Own-Secret"}, format="json"
    )
    assert ok.status_code == 200
    refused = anon_client.post(
        "/api/auth/login", {"email": "ben@exampulse.ai", "password": "student123"}, format="json"
    )
    assert refused.status_code == 401


def test_seed_demo_creates_the_demo_course_once_and_leaves_the_demo_exams_open():
    seed()
    seed()

    course = Course.objects.get(code="DEMO-101")
    assert sorted(course.students.values_list("email", flat=True)) == sorted(s[1] for s in DEMO_STUDENTS)
    assert list(CourseStaff.objects.filter(course=course).values_list("user__email", flat=True)) == [
        "proctor@exampulse.ai"
    ]
    assert not Exam.objects.filter(course__isnull=False).exists()
