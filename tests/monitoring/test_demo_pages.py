"""The demo student pages: served only in demo mode, listing the seeded students and open exams."""

from __future__ import annotations

import io
import json

import pytest
from django.contrib.staticfiles import finders
from django.core.management import call_command
from django.test import Client

from exams.models import Course, CourseStaff, Enrollment, Exam
from tests.factories import ProctorFactory, StudentFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo_on(settings):
    settings.EXAMPULSE = {**settings.EXAMPULSE, "DEMO": True}


@pytest.fixture
def demo_off(settings):
    settings.EXAMPULSE = {**settings.EXAMPULSE, "DEMO": False}


@pytest.fixture
def seeded():
    call_command("seed_demo", stdout=io.StringIO())
    return {exam.is_calibration: exam for exam in Exam.objects.all()}


def demo_config(response) -> dict:
    html = response.content.decode()
    start = html.index('<script id="demo-config" type="application/json">') + len(
        '<script id="demo-config" type="application/json">'
    )
    return json.loads(html[start : html.index("</script>", start)])


@pytest.mark.parametrize("path", ["/demo/", "/demo/exam/1/", "/demo/exam/1"])
def test_demo_pages_do_not_exist_when_the_demo_is_off(demo_off, seeded, path):
    assert Client().get(path).status_code == 404


def test_demo_index_lists_the_seeded_students_and_open_exams_calibration_first(demo_on, seeded):
    response = Client().get("/demo/")
    assert response.status_code == 200
    html = response.content.decode()
    for email in ("asha@exampulse.ai", "ben@exampulse.ai", "chen@exampulse.ai", "dana@exampulse.ai"):
        assert f'value="{email}"' in html
    calibration, quiz = seeded[True], seeded[False]
    assert html.index(f'data-exam-id="{calibration.pk}"') < html.index(f'data-exam-id="{quiz.pk}"')
    assert f'href="/monitor/exam/{quiz.pk}/"' in html


def test_demo_index_leaves_out_exams_that_are_not_open(demo_on, seeded):
    quiz = seeded[False]
    Exam.objects.filter(pk=quiz.pk).update(status="completed")
    html = Client().get("/demo/").content.decode()
    assert f'data-exam-id="{quiz.pk}"' not in html


def test_demo_exam_page_configures_the_client_without_any_answer_key(demo_on, seeded):
    quiz = seeded[False]
    response = Client().get(f"/demo/exam/{quiz.pk}/")
    assert response.status_code == 200
    config = demo_config(response)
    assert config["examId"] == quiz.pk
    assert config["isCalibration"] is False
    assert [s["email"] for s in config["students"]][:1] == ["asha@exampulse.ai"]
    assert config["password"] == "student123"
    html = response.content.decode()
    assert "exampulse/exampulse-client.js" in html
    # The questions come from the API at run time; the page itself carries none, let alone answers.
    for question in quiz.questions:
        assert question["text"] not in html
    assert "Rayleigh" not in html


def test_demo_exam_page_marks_the_calibration_exam(demo_on, seeded):
    response = Client().get(f"/demo/exam/{seeded[True].pk}/")
    assert demo_config(response)["isCalibration"] is True
    assert "Calibration exam." in response.content.decode()


@pytest.mark.parametrize("status", ["scheduled", "completed"])
def test_demo_exam_page_is_404_for_an_exam_that_is_not_open(demo_on, seeded, status):
    quiz = seeded[False]
    Exam.objects.filter(pk=quiz.pk).update(status=status)
    assert Client().get(f"/demo/exam/{quiz.pk}/").status_code == 404


def test_demo_exam_page_is_404_for_an_unknown_exam(demo_on, seeded):
    assert Client().get("/demo/exam/999999/").status_code == 404


def test_demo_pages_refuse_writes(demo_on, seeded):
    assert Client().post("/demo/").status_code == 405


def test_the_client_module_and_demo_assets_are_static_files():
    for name in ("exampulse/exampulse-client.js", "exampulse/demo.js", "exampulse/demo.css"):
        assert finders.find(name), name


def test_anonymous_visitors_see_and_open_only_exams_without_a_course(demo_on, seeded):
    quiz = seeded[False]
    course = Course.objects.create(code="SEC-1", name="Secret")
    hidden = Exam.objects.create(
        name="Course-only midterm", duration_minutes=30, status="active", course=course, questions=[], total_questions=0
    )
    anonymous = Client()

    index = anonymous.get("/demo/").content.decode()

    assert f'data-exam-id="{quiz.pk}"' in index
    assert f'data-exam-id="{hidden.pk}"' not in index and "Course-only midterm" not in index
    assert anonymous.get(f"/demo/exam/{hidden.pk}/").status_code == 404
    assert anonymous.get(f"/demo/exam/{quiz.pk}/").status_code == 200


def test_a_logged_in_user_sees_on_the_demo_what_the_api_shows_them(demo_on, seeded):
    course = Course.objects.create(code="SEC-2", name="Secret")
    hidden = Exam.objects.create(
        name="Course-only final", duration_minutes=30, status="active", course=course, questions=[], total_questions=0
    )
    member, outsider = StudentFactory(), StudentFactory()
    Enrollment.objects.create(course=course, student=member)
    staff = ProctorFactory()
    CourseStaff.objects.create(course=course, user=staff)
    for user, sees in ((member, True), (outsider, False), (staff, True), (ProctorFactory(), False)):
        client = Client()
        client.force_login(user)
        assert (f'data-exam-id="{hidden.pk}"' in client.get("/demo/").content.decode()) is sees, user
        assert client.get(f"/demo/exam/{hidden.pk}/").status_code == (200 if sees else 404)
