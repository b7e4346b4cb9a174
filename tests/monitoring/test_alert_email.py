"""The staff's alert email names the risk the alert was raised at and the student's risk when it is
sent, both as the dashboard names them ("Medium · 0.59"), in a subject and body that agree, with an
absolute link (PUBLIC_URL) to the session's review page."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.test import Client

from accounts.services import proctor_add_to_group
from exams.models import Course, CourseStaff, Enrollment, ExamSession
from exams.services import session_start
from monitoring.ingest.activity import parse_activity
from monitoring.ingest.services import IngestRequest, events_ingest
from monitoring.models import Alert, AlertEmail
from monitoring.notify import tasks
from tests.monitoring.conftest import make_exam

PUBLIC_URL = "https://exams.example.org"
# Against the `baseline` fixture on a high-sensitivity exam (alerts from 0.5): these events take
# the risk to medium (an alert), the fast typing then to high (another).
TO_MEDIUM = [
    *({"type": "tab_switch"} for _ in range(11)),
    {"type": "window_focus", "blur_duration_ms": 130_000},
    {"type": "question_answered", "question_id": "q1", "time_spent_sec": 2},
]
TO_HIGH = [{"type": "typing_sample", "wpm": 200}]
SUBJECT = re.compile(r"raised at (?P<raised>\w+ · \d\.\d\d), now (?P<now>\w+ · \d\.\d\d)$")


@pytest.fixture(autouse=True)
def _settings(settings, tmp_path):
    settings.EXAMPULSE = {**settings.EXAMPULSE, "MODEL_DIR": str(tmp_path / "models")}
    settings.PUBLIC_URL = PUBLIC_URL


@pytest.fixture
def course_session(student, proctor, baseline):
    course = Course.objects.create(code="BIO101", name="Biology")
    CourseStaff.objects.create(course=course, user=proctor)
    Enrollment.objects.create(course=course, student=student)
    return session_start(exam=make_exam(proctor, course=course), user=student)


def ingest(session, activities) -> None:
    for activity in activities:
        events_ingest([IngestRequest(session.pk, parse_activity({"exam_id": session.exam_id, **activity}))])


def level(level: str, score: float) -> str:
    return f"{level.capitalize()} · {score:.2f}"


@pytest.mark.django_db
def test_the_email_states_the_raised_and_the_current_level_and_links_to_the_session(course_session, proctor):
    ingest(course_session, TO_MEDIUM)
    first = AlertEmail.objects.get(session=course_session)
    alert = Alert.objects.get(pk=first.alert_id)
    assert alert.risk_level == "medium"
    ingest(course_session, TO_HIGH)  # the student climbs before the worker sends the first email
    session = ExamSession.objects.get(pk=course_session.pk)
    assert session.risk_level == "high"

    tasks.alert_email_send.call(first.pk)
    [message] = mail.outbox
    raised, now = level(alert.risk_level, alert.risk_score), level(session.risk_level, session.risk_score)
    assert SUBJECT.search(message.subject).groupdict() == {"raised": raised, "now": now}
    assert course_session.user.name in message.subject and course_session.exam.name in message.subject
    # The body says the same as the subject, in the same words.
    assert f"Raised at: {raised}" in message.body
    assert f"Now: {now}" in message.body
    assert not re.search(r"\b(low|medium|high)\b", message.body.replace(alert.message, "")), message.body
    review = f"/admin/exams/examsession/{course_session.pk}/change/"
    assert f"{PUBLIC_URL}{review}" in message.body
    assert f"Live dashboard: {PUBLIC_URL}/monitor/exam/{course_session.exam_id}" in message.body
    # The row keeps what was sent.
    first.refresh_from_db()
    assert (first.subject, first.body, first.status) == (message.subject, message.body, "delivered")
    # The link lands on the session's review page for the course's staff.
    proctor_add_to_group(user=proctor)  # the console's permissions
    client = Client()
    client.force_login(proctor)
    assert client.get(review).status_code == 200


@pytest.mark.django_db
def test_an_email_sent_at_once_says_the_level_it_was_raised_at_twice(course_session):
    ingest(course_session, TO_MEDIUM)
    row = AlertEmail.objects.get(session=course_session)
    tasks.alert_email_send.call(row.pk)
    [message] = mail.outbox
    found = SUBJECT.search(message.subject).groupdict()
    assert found["raised"] == found["now"] and found["raised"].startswith("Medium · ")
    assert f"Raised at: {found['raised']}" in message.body and f"Now: {found['now']}" in message.body


@pytest.mark.django_db
def test_a_long_exam_title_is_cut_before_the_levels_are(course_session):
    course_session.exam.name = ("A very long exam title " * 9)[:200]  # as long as a title may be
    course_session.exam.save(update_fields=["name"])
    ingest(course_session, TO_MEDIUM)
    row = AlertEmail.objects.get(session=course_session)
    assert len(row.subject) <= 200
    assert SUBJECT.search(row.subject), row.subject
