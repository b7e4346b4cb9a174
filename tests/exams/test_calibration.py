"""A calibration exam feeds each submitted session's measured behaviour into the student's baseline."""

from __future__ import annotations

from datetime import timedelta

import pytest

from exams.models import ExamSession
from exams.sessions import session_alert_opened, session_expire_if_due, session_start, session_submit
from scoring.aggregation import fold_all
from scoring.models import Baseline
from tests.exams.conftest import make_exam

pytestmark = pytest.mark.django_db

MEASURED = fold_all(
    [("typing_sample", {"wpm": 50}), ("typing_sample", {"wpm": 40}), ("mouse_sample", {"speed_pxs": 300})]
)


def started_with_behaviour(exam, student):
    session = session_start(exam=exam, user=student)
    # Arrangement: the live side's ingestion would have folded these events into `behaviour`.
    ExamSession.objects.filter(pk=session.pk).update(behaviour=MEASURED)
    session.refresh_from_db()
    return session


def test_submitting_a_calibration_exam_adds_one_baseline_sample(api_client, proctor, student):
    exam = make_exam(proctor, is_calibration=True)
    started_with_behaviour(exam, student)
    client = api_client(student)
    response = client.post(f"/api/exams/{exam.pk}/submit", {"answers": {}}, format="json")
    assert response.status_code == 200
    baseline = Baseline.objects.get(user=student)
    assert baseline.sample_count == 1
    assert baseline.typing_speed_wpm == pytest.approx(45)
    assert baseline.mouse_speed_pxs == pytest.approx(300)
    # Idempotent submit: the repeat does not add a second sample.
    client.post(f"/api/exams/{exam.pk}/submit", {"answers": {}}, format="json")
    assert Baseline.objects.get(user=student).sample_count == 1


def test_an_ordinary_exam_leaves_the_baseline_alone(api_client, exam, student):
    started_with_behaviour(exam, student)
    api_client(student).post(f"/api/exams/{exam.pk}/submit", {"answers": {}}, format="json")
    assert not Baseline.objects.filter(user=student, sample_count__gt=0).exists()


def test_a_flagged_calibration_session_does_not_teach_the_baseline(proctor, student):
    exam = make_exam(proctor, is_calibration=True)
    session = started_with_behaviour(exam, student)
    session_alert_opened(session=session)
    assert session_submit(session=session, answers={}).status == "flagged"
    assert not Baseline.objects.filter(user=student, sample_count__gt=0).exists()


def test_an_expired_calibration_session_still_feeds_the_baseline(proctor, student):
    exam = make_exam(proctor, is_calibration=True)
    session = started_with_behaviour(exam, student)
    session_expire_if_due(session=session, at=session.deadline_at + timedelta(minutes=5))
    assert Baseline.objects.get(user=student).sample_count == 1
