"""LTI launches over the Django test client against the project's platform (real HTTP for its JWKS).

The happy paths land learners on the exam and instructors on the live dashboard with working
tokens; each failure the spec names is refused with a 4xx page that says why, and creates nothing.
"""

from __future__ import annotations

import io
import time

import pytest
from django.core.management import call_command
from lti_tool.models import LtiContext, LtiDeployment, LtiRegistration, LtiResourceLink, LtiUser
from rest_framework.test import APIClient

from accounts.models import AuditEntry, Role, User
from exams.models import Course, CourseStaff, Enrollment, Exam
from harness.lti_platform import INSTRUCTOR, LEARNER, Person, new_rsa_key
from lti.models import ExamLink
from tests.factories import ProctorFactory, StudentFactory
from tests.lti.conftest import ALICE, IVAN, LAUNCH_URL, do_launch, launch_data
from tests.monitoring.conftest import make_exam

pytestmark = pytest.mark.django_db


def _counts() -> dict[str, int]:
    models = (User, LtiUser, LtiContext, LtiResourceLink, LtiDeployment, Course, Enrollment, CourseStaff, ExamLink)
    return {model.__name__: model.objects.count() for model in models}


def _course_with_exam(client, platform):
    """The instructor's first launch (unbound link: the set-up page) makes the course; an exam in it."""
    response = do_launch(client, platform, platform.prepare_launch(IVAN))
    assert response.status_code == 200
    ivan = User.objects.get(email=IVAN.email)
    course = Course.objects.get(lti_link__context__id_on_platform="course-1")
    return ivan, course, make_exam(ivan, course=course, name="Chemistry final")


def test_register_prints_the_three_urls_on_public_url_and_is_idempotent(platform):
    uuid = LtiRegistration.objects.get().uuid
    assert platform.printed == {
        "login_url": f"http://testserver/lti/login/{uuid}/",
        "launch_url": LAUNCH_URL,
        "jwks_url": "http://testserver/lti/jwks/",
    }
    out = io.StringIO()
    call_command("lti_register", *platform.register_args(), "--deployment-id", "d-2", stdout=out, stderr=io.StringIO())
    assert LtiRegistration.objects.count() == 1
    assert set(LtiDeployment.objects.values_list("deployment_id", flat=True)) == {"deployment-1", "d-2"}
    assert f"login_url: http://testserver/lti/login/{uuid}/" in out.getvalue()


def test_the_jwks_is_public_and_holds_the_tool_key(client, platform):
    keys = client.get("/lti/jwks/").json()["keys"]
    assert len(keys) == 1 and keys[0]["kty"] == "RSA" and keys[0]["alg"] == "RS256" and "d" not in keys[0]
    call_command("rotate_keys", stdout=io.StringIO())
    assert len(client.get("/lti/jwks/").json()["keys"]) == 2


def test_a_learner_lands_on_the_bound_exam_signed_in_and_enrolled(client, platform):
    _ivan, course, exam = _course_with_exam(client, platform)
    hint = platform.prepare_launch(ALICE, custom={"exam_id": str(exam.pk)})

    response = do_launch(client, platform, hint)

    assert response.status_code == 200, response.content.decode()[:500]
    alice = User.objects.get(email=ALICE.email)
    assert alice.role == Role.STUDENT and alice.name == "Alice Learner" and not alice.has_usable_password()
    assert LtiUser.objects.get(sub=ALICE.sub).auth_user == alice
    assert Enrollment.objects.filter(course=course, student=alice).exists()
    assert ExamLink.objects.get(resource_link__id_on_platform="link-1").exam == exam
    data = launch_data(response)
    assert data["exam_id"] == exam.pk and data["course_id"] == course.pk and data["role"] == "student"
    assert data["ws_url"] == "ws://testserver/ws/exam/"
    # The page is the exam client, and the tokens are the learner's own: the API takes them.
    assert b"Chemistry final" in response.content and b"exampulse-client.js" in response.content
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {data['access']}")
    me = api.get("/api/auth/me")
    assert me.status_code == 200 and me.json()["data"]["user"]["email"] == ALICE.email
    start = api.post(f"/api/exams/{exam.pk}/start")
    assert start.status_code in (200, 201), start.content
    # Framed by the platform only; the tokens are never cached.
    policy = response["Content-Security-Policy"]
    assert f"frame-ancestors {platform.issuer}" in policy
    assert "X-Frame-Options" not in response and response["Cache-Control"] == "no-store"


def test_the_next_launch_finds_the_same_account_by_issuer_and_sub(client, platform):
    _ivan, _course, exam = _course_with_exam(client, platform)
    hint = platform.prepare_launch(ALICE, custom={"exam_id": str(exam.pk)})
    assert do_launch(client, platform, hint).status_code == 200
    renamed = Person(ALICE.sub, "Alice Renamed", "alice.new@lms.example.edu", [LEARNER])
    hint = platform.prepare_launch(renamed, custom={"exam_id": str(exam.pk)})
    assert do_launch(client, platform, hint).status_code == 200
    assert User.objects.filter(role=Role.STUDENT).count() == 1


def test_an_instructor_lands_on_the_live_dashboard_of_the_bound_exam_on_the_courses_staff(client, platform):
    ivan, course, exam = _course_with_exam(client, platform)
    assert ivan.role == Role.PROCTOR and CourseStaff.objects.filter(course=course, user=ivan).exists()
    assert course.name == "Chemistry 101 · CHEM101"

    response = do_launch(client, platform, platform.prepare_launch(IVAN, custom={"exam_id": str(exam.pk)}))

    assert response.status_code == 200, response.content.decode()[:500]
    data = launch_data(response)
    assert data["role"] == "proctor" and data["exam_id"] == exam.pk
    assert b'id="dashboard-config"' in response.content and b"dashboard.js" in response.content
    # The dashboard's socket authenticates with the token (no session cookie inside an iframe).
    assert f"/ws/exam/?token={data['access']}".encode() in response.content
    assert f"frame-ancestors {platform.issuer}" in response["Content-Security-Policy"]


def test_an_unbound_link_shows_the_learner_a_not_set_up_page(client, platform):
    response = do_launch(client, platform, platform.prepare_launch(ALICE))
    assert response.status_code == 200
    assert b"not set up yet" in response.content
    assert b"exampulse-launch" not in response.content  # nothing to do there: no tokens handed out
    assert Enrollment.objects.filter(student__email=ALICE.email).exists()


def test_an_instructor_binds_an_open_exam_of_theirs_which_joins_the_course(client, platform):
    ivan, course, _ = _course_with_exam(client, platform)
    own_open = make_exam(ivan, name="Open quiz")
    response = do_launch(
        client, platform, platform.prepare_launch(IVAN, resource_link_id="link-2", custom={"exam_id": str(own_open.pk)})
    )
    assert response.status_code == 200
    own_open.refresh_from_db()
    assert own_open.course == course
    assert ExamLink.objects.get(resource_link__id_on_platform="link-2").exam == own_open
    assert AuditEntry.objects.filter(action="exam_update", target_id=str(own_open.pk)).exists()


@pytest.mark.parametrize("role", [INSTRUCTOR, LEARNER])
def test_an_exam_of_another_course_cannot_be_bound(client, platform, role):
    _ivan, _course, _ = _course_with_exam(client, platform)
    other_proctor = ProctorFactory()
    other_course = Course.objects.create(code="OTHER", name="Other")
    foreign = make_exam(other_proctor, course=other_course)
    foreign_open = make_exam(other_proctor)
    person = IVAN if role == INSTRUCTOR else ALICE
    for exam in (foreign, foreign_open):
        before = _counts()
        hint = platform.prepare_launch(person, resource_link_id="link-x", custom={"exam_id": str(exam.pk)})
        response = do_launch(client, platform, hint)
        assert response.status_code == 403, response.content.decode()[:300]
        assert b"can bind it" in response.content
        assert _counts() == before
        exam.refresh_from_db()
        assert exam.course_id in (other_course.pk, None)


def test_a_launch_never_changes_an_accounts_role(client, platform):
    assert do_launch(client, platform, platform.prepare_launch(ALICE)).status_code == 200
    before = _counts()
    as_teacher = Person(ALICE.sub, ALICE.name, ALICE.email, [INSTRUCTOR])
    response = do_launch(client, platform, platform.prepare_launch(as_teacher))
    assert response.status_code == 403
    assert b"never changes an account" in response.content
    assert _counts() == before
    assert User.objects.get(email=ALICE.email).role == Role.STUDENT


def test_an_existing_account_with_the_platforms_email_is_not_taken_over(client, platform):
    StudentFactory(email=ALICE.email)
    before = _counts()
    response = do_launch(client, platform, platform.prepare_launch(ALICE))
    assert response.status_code == 403 and b"not linked to this LMS login" in response.content
    assert _counts() == before


# --- every check the spec names: refused with the reason, nothing created ---------------------------


def _refused(response, status: int, words: str) -> None:
    body = response.content.decode()
    assert response.status_code == status, body[:500]
    assert words in body, body[:800]
    assert 'id="exampulse-launch"' not in body


def test_bad_signature_is_refused(client, platform):
    before = _counts()
    response = do_launch(client, platform, platform.prepare_launch(ALICE), key=new_rsa_key())
    _refused(response, 400, "Signature verification failed")
    assert _counts() == before


def test_wrong_audience_is_refused(client, platform):
    before = _counts()
    response = do_launch(client, platform, platform.prepare_launch(ALICE), aud="some-other-tool")
    _refused(response, 400, "Launch refused")
    assert _counts() == before


def test_several_audiences_need_our_azp(client, platform):
    before = _counts()
    response = do_launch(
        client, platform, platform.prepare_launch(ALICE), aud=[platform.client_id, "another"], azp="another"
    )
    _refused(response, 400, "authorized party")
    assert _counts() == before


def test_expired_token_is_refused(client, platform):
    before = _counts()
    now = int(time.time())
    response = do_launch(client, platform, platform.prepare_launch(ALICE), exp=now - 30, iat=now - 330)
    _refused(response, 400, "expired")
    assert _counts() == before


def test_token_without_exp_is_refused(client, platform):
    response = do_launch(client, platform, platform.prepare_launch(ALICE), exp=None)
    _refused(response, 400, "exp")
    assert User.objects.count() == 0


def test_token_issued_in_the_future_is_refused(client, platform):
    response = do_launch(client, platform, platform.prepare_launch(ALICE), iat=int(time.time()) + 600)
    _refused(response, 400, "Launch refused")
    assert User.objects.count() == 0


def test_replayed_token_is_refused(client, platform):
    first = do_launch(client, platform, platform.prepare_launch(ALICE))
    assert first.status_code == 200
    before = _counts()
    again = client.post("/lti/launch/", {"id_token": first.id_token, "state": first.state})
    _refused(again, 400, "already used")
    assert _counts() == before


def test_a_token_for_another_login_nonce_is_refused(client, platform):
    from tests.lti.conftest import login_redirect

    hint = platform.prepare_launch(ALICE)
    params = login_redirect(client, platform, hint)
    token = platform.id_token(platform.launches[hint], nonce="not-the-login-nonce")
    _refused(client.post("/lti/launch/", {"id_token": token, "state": params["state"]}), 400, "nonce")
    assert User.objects.count() == 0


def test_unknown_state_is_refused(client, platform):
    hint = platform.prepare_launch(ALICE)
    token = platform.id_token(platform.launches[hint], nonce="n")
    _refused(client.post("/lti/launch/", {"id_token": token, "state": "state-made-up"}), 400, "state")
    assert User.objects.count() == 0


def test_unknown_deployment_is_refused_and_not_created(client, platform):
    before = _counts()
    response = do_launch(
        client,
        platform,
        platform.prepare_launch(ALICE),
        **{"https://purl.imsglobal.org/spec/lti/claim/deployment_id": "unregistered-deployment"},
    )
    _refused(response, 400, "Unknown deployment")
    assert _counts() == before


def test_an_unknown_issuer_cannot_even_start_a_login(client, platform):
    params = platform.login_params(platform.prepare_launch(ALICE), target_link_uri=LAUNCH_URL)
    response = client.get("/lti/login/", {**params, "iss": "https://evil.example.com"})
    assert response.status_code == 400 and b"registration" in response.content


def test_a_rotated_platform_key_is_fetched_again(client, platform):
    assert do_launch(client, platform, platform.prepare_launch(ALICE)).status_code == 200
    assert platform.jwks_fetches == 1
    assert do_launch(client, platform, platform.prepare_launch(ALICE)).status_code == 200
    assert platform.jwks_fetches == 1  # cached
    platform.rotate_key()
    assert do_launch(client, platform, platform.prepare_launch(ALICE)).status_code == 200
    assert platform.jwks_fetches == 2


def test_a_refusal_page_is_framed_only_by_the_platform_and_other_pages_by_nobody(client, platform):
    response = do_launch(client, platform, platform.prepare_launch(ALICE), aud="x")
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]
    ok = do_launch(client, platform, platform.prepare_launch(ALICE))
    assert f"frame-ancestors {platform.issuer}" in ok["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in client.get("/lti/jwks/").get("Content-Security-Policy", "frame-ancestors 'none'")
    admin_login = client.get("/admin/login/")
    assert "frame-ancestors 'none'" in admin_login["Content-Security-Policy"]
    assert Exam.objects.count() == 0


def test_a_launch_that_loses_a_creation_race_is_run_again(client, platform, monkeypatch):
    """Two first launches of a new course at once: the loser's insert hits a unique constraint and its
    transaction rolls back; the launch runs again and finds the winner's rows (here the race is forced)."""
    from django.db import IntegrityError

    import lti.launch

    real = lti.launch.course_for
    calls = []

    def losing_once(context, *, by):
        calls.append(context.pk)
        if len(calls) == 1:
            real(context, by=by)  # the winner's rows...
            raise IntegrityError("duplicate key value violates unique constraint")  # ...and this one loses
        return real(context, by=by)

    monkeypatch.setattr(lti.launch, "course_for", losing_once)
    response = do_launch(client, platform, platform.prepare_launch(ALICE))
    assert response.status_code == 200 and len(calls) == 2
    assert Course.objects.count() == 1 and User.objects.count() == 1 and LtiUser.objects.count() == 1
