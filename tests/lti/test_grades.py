"""Grades back to the LMS (AGS) over real HTTP against the test platform: the numbers that arrive, a
gradebook that fails and recovers, and the scores regrades and verdicts send."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from accounts.models import User
from exams.grading import session_grade
from exams.models import Course
from exams.reviews import session_review, session_second_review
from exams.sessions import session_reset, session_start, session_submit, session_terminate
from harness.lti_platform import SCORE_SCOPE, SCORE_TYPE
from lti.grades import score_attempt
from lti.models import ScoreDelivery, ScoreStatus
from lti.tasks import score_send_task
from tests.factories import ProctorFactory, StudentFactory
from tests.lti.conftest import ALICE, IVAN, do_launch
from tests.monitoring.conftest import make_exam

pytestmark = pytest.mark.django_db

QUESTIONS = [
    {"id": "q1", "text": "2 + 2?", "type": "mcq", "options": ["3", "4"], "answer": "4", "points": 1},
    {"id": "q2", "text": "Primes?", "type": "multi", "options": ["2", "4", "5"], "answer": ["2", "5"], "points": 2},
]
SHORT = {"id": "q3", "text": "Define work.", "type": "short", "answer": "Force times distance.", "points": 2}


@pytest.fixture
def bound(client, platform):
    """An LMS course with an exam bound to link-1, and Alice launched into it."""
    platform.tool_jwks = client.get("/lti/jwks/").json()
    assert do_launch(client, platform, platform.prepare_launch(IVAN)).status_code == 200
    ivan = User.objects.get(email=IVAN.email)
    course = Course.objects.get(lti_link__context__id_on_platform="course-1")
    exam = make_exam(ivan, course=course, questions=[*QUESTIONS, SHORT], total_questions=3)
    hint = platform.prepare_launch(ALICE, custom={"exam_id": str(exam.pk)})
    assert do_launch(client, platform, hint).status_code == 200
    return exam, User.objects.get(email=ALICE.email), ivan


def _exam_without_short(bound):
    exam, alice, ivan = bound
    exam.questions = QUESTIONS
    exam.save(update_fields=["questions"])
    return exam, alice, ivan


def send_all() -> None:
    """What db_worker does with the queued score tasks (each attempt once)."""
    for pk in ScoreDelivery.objects.filter(status=ScoreStatus.PENDING).values_list("pk", flat=True):
        score_send_task.call(pk)


def test_a_submitted_score_arrives_with_the_right_numbers(platform, bound, django_capture_on_commit_callbacks):
    exam, alice, _ = _exam_without_short(bound)
    session = session_start(exam=exam, user=alice)
    with django_capture_on_commit_callbacks(execute=True):
        session_submit(session=session, answers={"q1": "4", "q2": ["2", "4"]})  # 1 of 1, 0 of 2

    row = ScoreDelivery.objects.get()
    assert DBTaskResult.objects.filter(task_path__endswith="score_send_task", args_kwargs__args=[row.pk]).exists()
    send_all()

    (arrived,) = platform.scores
    assert arrived["path"] == "/lineitems/course-1-link-1/scores"
    assert arrived["content_type"] == SCORE_TYPE and arrived["authorization"].startswith("Bearer ")
    score = arrived["json"]
    assert score["userId"] == ALICE.sub
    assert score["scoreGiven"] == 1.0 and score["scoreMaximum"] == 3.0
    assert score["activityProgress"] == "Completed" and score["gradingProgress"] == "FullyGraded"
    assert timezone.datetime.fromisoformat(score["timestamp"]) <= timezone.now()
    assert SCORE_SCOPE in platform.token_requests[-1]["scopes"]
    row.refresh_from_db()
    assert row.status == ScoreStatus.DELIVERED and row.attempts == 1
    assert list(row.attempt_log.values_list("status_code", flat=True)) == [200]


def test_a_gradebook_that_fails_then_recovers_gets_the_score_with_every_attempt_kept(platform, bound, settings):
    settings.NOTIFY_RETRY_SCHEDULE = [10, 30]
    exam, alice, _ = _exam_without_short(bound)
    session_submit(session=session_start(exam=exam, user=alice), answers={"q1": "4", "q2": ["2", "5"]})
    row = ScoreDelivery.objects.get()
    platform.score_failures = 2

    before = timezone.now()
    score_send_task.call(row.pk)
    row.refresh_from_db()
    assert row.status == ScoreStatus.FAILED and row.last_status_code == 503
    assert 9 <= (row.next_attempt_at - before).total_seconds() <= 15
    retry = DBTaskResult.objects.filter(task_path__endswith="score_send_task").order_by("-enqueued_at").first()
    assert retry.run_after is not None and retry.run_after >= before + timedelta(seconds=9)
    assert score_attempt(delivery_pk=row.pk) is None  # not due yet: nothing sent
    assert not platform.scores

    for _ in range(2):
        ScoreDelivery.objects.filter(pk=row.pk).update(next_attempt_at=timezone.now() - timedelta(seconds=1))
        score_attempt(delivery_pk=row.pk)
    row.refresh_from_db()
    assert row.status == ScoreStatus.DELIVERED and row.attempts == 3
    assert list(row.attempt_log.values_list("status_code", flat=True)) == [503, 503, 200]
    assert [s["json"]["scoreGiven"] for s in platform.scores] == [3.0]


def test_a_gradebook_that_never_recovers_is_given_up_after_the_schedule(platform, bound, settings):
    settings.NOTIFY_RETRY_SCHEDULE = [10]
    exam, alice, _ = _exam_without_short(bound)
    session_submit(session=session_start(exam=exam, user=alice), answers={"q1": "4"})
    row = ScoreDelivery.objects.get()
    platform.score_failures = 10
    assert score_attempt(delivery_pk=row.pk) == 10
    ScoreDelivery.objects.filter(pk=row.pk).update(next_attempt_at=timezone.now())
    assert score_attempt(delivery_pk=row.pk) is None
    row.refresh_from_db()
    assert row.status == ScoreStatus.GAVE_UP and row.attempt_log.count() == 2


def test_short_answers_hold_the_grade_pending_until_graded_then_the_full_score_goes(platform, bound):
    exam, alice, ivan = bound
    session = session_submit(
        session=session_start(exam=exam, user=alice), answers={"q1": "4", "q2": ["2", "5"], "q3": "F x d"}
    )
    send_all()
    session_grade(session=session, by=ivan, scores={"q3": 1.5})
    send_all()
    session_grade(session=session, by=ivan, scores={"q3": 2})  # a regrade
    send_all()
    progress = [(s["json"]["gradingProgress"], s["json"].get("scoreGiven")) for s in platform.scores]
    assert progress == [("Pending", None), ("FullyGraded", 4.5), ("FullyGraded", 5.0)]
    assert {s["json"]["scoreMaximum"] for s in platform.scores} == {5.0}


def test_a_violation_holds_the_grade_a_confirmation_sends_zero_an_overturn_the_score(platform, bound):
    exam, alice, ivan = _exam_without_short(bound)
    second = ProctorFactory()
    session = session_submit(session=session_start(exam=exam, user=alice), answers={"q1": "4", "q2": ["2", "5"]})
    send_all()
    session = session_review(session=session, by=ivan, review_status="violation", note="phone", reason_code="other")
    send_all()
    session = session_second_review(session=session, by=second, decision="confirm", note="agreed")
    send_all()
    progress = [(s["json"]["gradingProgress"], s["json"].get("scoreGiven")) for s in platform.scores]
    assert progress == [("FullyGraded", 3.0), ("PendingManual", None), ("FullyGraded", 0.0)]


def test_an_overturned_violation_sends_the_score_again(platform, bound):
    exam, alice, ivan = _exam_without_short(bound)
    session = session_submit(session=session_start(exam=exam, user=alice), answers={"q1": "4", "q2": ["2", "5"]})
    session = session_review(session=session, by=ivan, review_status="violation", note="phone", reason_code="other")
    session_second_review(
        session=session, by=ProctorFactory(), decision="overturn", review_status="clean", note="it was a calculator"
    )
    send_all()
    # Nothing was sent in between: the score and the hold were superseded unsent, the gradebook gets the last word.
    progress = [(s["json"]["gradingProgress"], s["json"].get("scoreGiven")) for s in platform.scores]
    assert progress == [("FullyGraded", 3.0)]
    assert ScoreDelivery.objects.filter(status=ScoreStatus.SUPERSEDED).count() == 2


def test_terminated_sessions_send_what_was_saved_and_others_send_nothing(platform, bound):
    exam, alice, ivan = _exam_without_short(bound)
    session = session_start(exam=exam, user=alice)
    session_terminate(session=session, by=ivan, reason="Second person in the room", reason_code="other")
    send_all()
    assert [s["json"]["gradingProgress"] for s in platform.scores] == ["FullyGraded"]
    # A student who did not come from the LMS, and a voided attempt, send nothing.
    outsider = StudentFactory()
    exam.course.students.add(outsider)
    session_submit(session=session_start(exam=exam, user=outsider), answers={})
    ScoreDelivery.objects.all().delete()
    session_reset(session=session, by=ivan, reason="technical problem")
    assert ScoreDelivery.objects.count() == 0


def test_every_attempt_is_visible_in_the_admin_and_can_be_retried(platform, bound, settings):
    admin_client = Client()
    admin_client.force_login(ProctorFactory(is_superuser=True, is_staff=True))
    settings.NOTIFY_RETRY_SCHEDULE = [10]
    exam, alice, _ = _exam_without_short(bound)
    session_submit(session=session_start(exam=exam, user=alice), answers={"q1": "4"})
    row = ScoreDelivery.objects.get()
    platform.score_failures = 5
    score_attempt(delivery_pk=row.pk)
    ScoreDelivery.objects.filter(pk=row.pk).update(next_attempt_at=timezone.now())
    score_attempt(delivery_pk=row.pk)
    page = admin_client.get(f"/admin/lti/scoredelivery/{row.pk}/change/")
    assert page.status_code == 200
    assert page.content.decode().count("503") >= 2 and "gave_up" in page.content.decode().lower().replace(" ", "_")
    platform.score_failures = 0
    response = admin_client.post(
        "/admin/lti/scoredelivery/", {"action": "retry_now", "_selected_action": [row.pk]}, follow=True
    )
    assert b"1 score(s) queued again" in response.content
    send_all_open(row.pk)
    row.refresh_from_db()
    assert row.status == ScoreStatus.DELIVERED and [s["json"]["scoreGiven"] for s in platform.scores] == [1.0]


def send_all_open(pk: int) -> None:
    score_send_task.call(pk)
