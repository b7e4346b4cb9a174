"""NRPS roster sync over real HTTP against the test platform: the tool gets a token with its signed
client assertion (the platform verifies it with the tool's JWKS) and reads the member list."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command
from django_tasks_db.models import DBTaskResult

from accounts.models import Role, User
from exams.models import Course, CourseStaff, Enrollment, ExamSession
from exams.sessions import session_start
from harness.lti_platform import INSTRUCTOR, LEARNER, NRPS_SCOPE, ROLE, Person
from lti.models import CourseLink
from lti.tasks import roster_sync_task
from tests.factories import StudentFactory
from tests.lti.conftest import ALICE, IVAN, do_launch
from tests.monitoring.conftest import make_exam

pytestmark = pytest.mark.django_db

BOB = Person("learner-bob", "Bob Learner", "bob@lms.example.edu", [LEARNER])
CAROL = Person("learner-carol", "Carol Learner", None, [LEARNER])  # the LMS withholds her email
TARA = Person("ta-tara", "Tara Assistant", "tara@lms.example.edu", [ROLE + "Instructor#TeachingAssistant"])
GUEST = Person(
    "guest-gus", "Gus Guest", "gus@lms.example.edu", ["http://purl.imsglobal.org/vocab/lis/v2/membership#Mentor"]
)


@pytest.fixture
def course(client, platform):
    platform.tool_jwks = client.get("/lti/jwks/").json()
    assert do_launch(client, platform, platform.prepare_launch(IVAN)).status_code == 200
    return Course.objects.get(lti_link__context__id_on_platform="course-1")


def sync(*args: str) -> str:
    out = io.StringIO()
    call_command("lti_sync_roster", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def _students(course) -> set[str]:
    return set(Enrollment.objects.filter(course=course).values_list("student__name", flat=True))


def test_sync_enrols_learners_puts_staff_on_staff_and_removes_who_left_keeping_their_sessions(platform, course):
    context = platform.context()
    context.members += [BOB, CAROL, TARA, GUEST]
    hand_added = StudentFactory(name="Hand Added")
    Enrollment.objects.create(course=course, student=hand_added)

    out = sync("--course", str(course.pk))

    assert f"course {course.pk}: 3 added (3 new accounts), 0 removed, 1 skipped" in out
    assert "skipped guest-gus: no role ExamPulse knows" in out
    assert _students(course) == {"Bob Learner", "Carol Learner", "Hand Added"}
    tara = User.objects.get(name="Tara Assistant")
    assert tara.role == Role.PROCTOR and CourseStaff.objects.filter(course=course, user=tara).exists()
    carol = User.objects.get(name="Carol Learner")
    assert carol.email.endswith("@lti.invalid") and not carol.has_usable_password()
    # The tool authenticated with its signed assertion and asked for the roster scope only.
    assert platform.token_requests and platform.token_requests[-1]["scopes"] == [NRPS_SCOPE]
    nrps = [r for r in platform.requests if r["path"].startswith("/nrps/")]
    assert nrps and nrps[-1]["authorization"].startswith("Bearer ")

    bob = User.objects.get(email=BOB.email)
    exam = make_exam(User.objects.get(email=IVAN.email), course=course)
    session = session_start(exam=exam, user=bob)
    context.members.remove(BOB)
    context.members.remove(TARA)

    out = sync("--course", str(course.pk))

    assert "0 added (0 new accounts), 2 removed" in out
    assert _students(course) == {"Carol Learner", "Hand Added"}  # the hand-added student stays
    assert not CourseStaff.objects.filter(course=course, user=tara).exists()
    assert ExamSession.objects.filter(pk=session.pk, user=bob).exists()  # sessions stay
    # Bob comes back: enrolled again, same account.
    context.members.append(BOB)
    assert "1 added (0 new accounts)" in sync()
    assert User.objects.filter(email=BOB.email).count() == 1


def test_sync_never_changes_a_role_and_never_takes_over_an_email(client, platform, course):
    assert do_launch(client, platform, platform.prepare_launch(ALICE)).status_code == 200
    context = platform.context()
    context.members = [IVAN, Person(ALICE.sub, ALICE.name, ALICE.email, [INSTRUCTOR]), BOB]
    StudentFactory(email=BOB.email)
    out = sync()
    assert "their account is a student, the LMS lists a proctor" in out
    assert "not linked to this LMS login" in out
    assert User.objects.get(email=ALICE.email).role == Role.STUDENT


def test_the_last_staff_member_stays_even_if_the_lms_drops_them(platform, course):
    platform.context().members = []
    out = sync()
    assert "the course's last staff member stays" in out
    assert CourseStaff.objects.filter(course=course).count() == 1


def test_an_instructor_launch_enqueues_a_sync_for_the_worker(
    client, platform, course, django_capture_on_commit_callbacks
):
    platform.context().members.append(BOB)
    with django_capture_on_commit_callbacks(execute=True):
        assert do_launch(client, platform, platform.prepare_launch(IVAN)).status_code == 200
    tasks = DBTaskResult.objects.filter(task_path__endswith="roster_sync_task")
    link = CourseLink.objects.get(course=course)
    assert tasks.count() == 1 and tasks.get().args_kwargs["args"] == [link.pk]
    roster_sync_task.call(link.pk)  # what db_worker runs
    assert "Bob Learner" in _students(course)
    link.refresh_from_db()
    assert link.synced_at is not None
    # A learner's launch does not.
    with django_capture_on_commit_callbacks(execute=True):
        assert do_launch(client, platform, platform.prepare_launch(ALICE)).status_code == 200
    assert tasks.count() == 1


def test_a_platform_that_refuses_the_token_fails_the_command_with_a_message(platform, course):
    platform.tool_jwks = {"keys": []}  # the platform no longer knows the tool's key
    with pytest.raises(CommandError, match="could not be synced"):
        sync()


def test_an_unknown_course_is_an_error():
    with pytest.raises(CommandError, match="not created by an LMS launch"):
        sync("--course", "999999")
