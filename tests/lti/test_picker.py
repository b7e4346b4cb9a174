"""An unbound link's picker (bind an exam, or create one) and deep linking (the LMS asks which exam a
new link opens; the answer is a signed ltiResourceLink with exam_id), without any cookie."""

from __future__ import annotations

import re

import pytest
import requests

from accounts.models import User
from exams.models import Course, Exam
from harness.lti_platform import DL_ITEMS
from lti.models import ExamLink
from tests.factories import ProctorFactory
from tests.lti.conftest import ALICE, IVAN, LAUNCH_URL, do_launch, launch_data
from tests.monitoring.conftest import make_exam

pytestmark = pytest.mark.django_db


def _ticket(response) -> str:
    match = re.search(r'name="ticket" value="([^"]+)"', response.content.decode())
    assert match, response.content.decode()[:800]
    return match.group(1)


def _first_launch(client, platform, **kwargs):
    response = do_launch(client, platform, platform.prepare_launch(IVAN, **kwargs))
    assert response.status_code == 200, response.content.decode()[:500]
    ivan = User.objects.get(email=IVAN.email)
    course = Course.objects.get(lti_link__context__id_on_platform="course-1")
    return response, ivan, course


def test_an_instructor_picks_an_exam_for_an_unbound_link_and_lands_on_its_dashboard(client, platform):
    _, ivan, course = _first_launch(client, platform)
    in_course = make_exam(ivan, course=course, name="Course exam")
    own_open = make_exam(ivan, name="My open quiz")
    foreign_open = make_exam(ProctorFactory(), name="Someone else's quiz")
    response = do_launch(client, platform, platform.prepare_launch(IVAN))
    page = response.content.decode()
    assert "Course exam" in page and "My open quiz" in page and "Someone else" not in page
    assert launch_data(response)["role"] == "proctor"

    chosen = client.post("/lti/pick/", {"ticket": _ticket(response), "action": "bind", "exam_id": in_course.pk})

    assert chosen.status_code == 200
    assert ExamLink.objects.get(resource_link__id_on_platform="link-1").exam == in_course
    assert b'id="dashboard-config"' in chosen.content and launch_data(chosen)["exam_id"] == in_course.pk
    assert f"frame-ancestors {platform.issuer}" in chosen["Content-Security-Policy"]
    # A learner's launch of the link now opens that exam.
    assert launch_data(do_launch(client, platform, platform.prepare_launch(ALICE)))["exam_id"] == in_course.pk
    # An exam the instructor may not bind is refused, and the binding stays.
    refused = client.post("/lti/pick/", {"ticket": _ticket(response), "action": "bind", "exam_id": foreign_open.pk})
    assert refused.status_code == 403 and b"cannot be bound" in refused.content
    assert ExamLink.objects.get(resource_link__id_on_platform="link-1").exam == in_course
    assert own_open.course_id is None


def test_an_instructor_creates_the_exam_from_the_picker(client, platform):
    response, ivan, course = _first_launch(client, platform)
    made = client.post(
        "/lti/pick/", {"ticket": _ticket(response), "action": "create", "name": "Midterm", "duration_minutes": "45"}
    )
    assert made.status_code == 200
    exam = Exam.objects.get(name="Midterm")
    assert exam.course == course and exam.created_by == ivan and exam.duration_minutes == 45
    assert ExamLink.objects.get().exam == exam
    bad = client.post(
        "/lti/pick/", {"ticket": _ticket(response), "action": "create", "name": "", "duration_minutes": "0"}
    )
    assert bad.status_code == 400 and Exam.objects.count() == 1


def test_a_forged_or_altered_ticket_is_refused(client, platform):
    response, ivan, course = _first_launch(client, platform)
    exam = make_exam(ivan, course=course)
    ticket = _ticket(response)
    for forged in ("", "nonsense", ticket[:-2] + ("AA" if not ticket.endswith("AA") else "BB")):
        answer = client.post("/lti/pick/", {"ticket": forged, "action": "bind", "exam_id": exam.pk})
        assert answer.status_code == 403 and b"expired or was altered" in answer.content
    assert not ExamLink.objects.exists()


def test_deep_linking_answers_the_lms_with_the_picked_exam_as_a_resource_link(client, platform):
    platform.tool_jwks = client.get("/lti/jwks/").json()
    _, ivan, course = _first_launch(client, platform)
    exam = make_exam(ivan, course=course, name="Final")
    request = do_launch(client, platform, platform.prepare_launch(IVAN, deep_link=True))
    assert request.status_code == 200 and b"Pick the ExamPulse exam" in request.content

    answer = client.post("/lti/pick/", {"ticket": _ticket(request), "action": "bind", "exam_id": exam.pk})

    assert answer.status_code == 200, answer.content.decode()[:500]
    body = answer.content.decode()
    action = re.search(r'<form method="post" action="([^"]+)" id="lti-deep-link-return">', body).group(1)
    jwt_value = re.search(r'name="JWT" value="([^"]+)"', body).group(1)
    assert action == f"{platform.browser_url}/deep_link_return"
    assert f"form-action 'self' {platform.browser_url}" in answer["Content-Security-Policy"]
    assert "lti/deep-link.js" in body  # posts itself; no inline script
    # The platform (over real HTTP) verifies the response with the tool's JWKS and reads the item.
    returned = requests.post(f"{platform.url}/deep_link_return", data={"JWT": jwt_value}, timeout=10)
    assert returned.status_code == 200, returned.text
    (item,) = platform.deep_links[-1][DL_ITEMS]
    assert item["type"] == "ltiResourceLink" and item["url"] == LAUNCH_URL
    assert item["custom"] == {"exam_id": str(exam.pk)} and item["title"] == "Final"
    assert platform.deep_links[-1]["https://purl.imsglobal.org/spec/lti-dl/claim/data"] == "dl-course-1"
    # The link the LMS creates from it launches straight into the exam.
    hint = platform.prepare_launch(ALICE, resource_link_id="link-from-dl", custom=item["custom"])
    assert launch_data(do_launch(client, platform, hint))["exam_id"] == exam.pk


def test_learners_cannot_deep_link(client, platform):
    response = do_launch(client, platform, platform.prepare_launch(ALICE, deep_link=True))
    assert response.status_code == 403 and b"Only the course" in response.content
    assert not User.objects.exists()
