"""Parallel double start and double submit on PostgreSQL: one session, one grading.

Each thread has its own database connection, so the row locks and the partial unique
constraint are exercised for real (SQLite serialises writers and would prove nothing).
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from exams import signals
from exams.models import ExamSession
from exams.sessions import session_alert_closed, session_alert_opened, session_start, session_submit
from scoring.aggregation import fold_all
from scoring.models import Baseline
from tests.exams.conftest import make_exam

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

THREADS = 8


def run_in_parallel(task, count=THREADS):
    """Run `task()` in `count` threads released together; return results (exceptions included)."""
    barrier = threading.Barrier(count)

    def worker():
        try:
            barrier.wait(timeout=10)
            return task()
        except Exception as exc:  # the test inspects whatever happened
            return exc
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(lambda _: worker(), range(count)))


def test_parallel_starts_create_one_session(requires_postgres, proctor, student):
    exam = make_exam(proctor)
    results = run_in_parallel(lambda: session_start(exam=exam, user=student))
    assert not [r for r in results if isinstance(r, Exception)]
    assert len({session.pk for session in results}) == 1
    assert ExamSession.objects.filter(exam=exam, user=student).count() == 1


def test_parallel_rest_starts_create_one_session(requires_postgres, api_client, proctor, student):
    exam = make_exam(proctor)
    results = run_in_parallel(lambda: api_client(student).post(f"/api/exams/{exam.pk}/start"))
    statuses = sorted(response.status_code for response in results)
    assert statuses == [200] * (THREADS - 1) + [201]
    assert len({response.json()["data"]["id"] for response in results}) == 1
    assert ExamSession.objects.filter(exam=exam, user=student).count() == 1


def test_parallel_submits_grade_once(requires_postgres, proctor, student):
    exam = make_exam(proctor, is_calibration=True)
    session = session_start(exam=exam, user=student)
    ExamSession.objects.filter(pk=session.pk).update(behaviour=fold_all([("typing_sample", {"wpm": 50})]))
    sent = []
    signals.session_submitted.connect(
        lambda sender, session, **kw: sent.append(session.pk), weak=False, dispatch_uid="test-receiver"
    )
    try:
        results = run_in_parallel(
            lambda: session_submit(session=ExamSession.objects.get(pk=session.pk), answers={"q1": "4"})
        )
    finally:
        # Only our receiver: monitoring's must stay connected for later tests.
        signals.session_submitted.disconnect(dispatch_uid="test-receiver")
    assert not [r for r in results if isinstance(r, Exception)]
    assert len({(r.submitted_at, r.score) for r in results}) == 1
    assert sent == [session.pk]
    # The calibration baseline took exactly one sample: the grading path ran once.
    assert Baseline.objects.get(user=student).sample_count == 1
    assert ExamSession.objects.get(pk=session.pk).score == 1


def test_alert_counters_survive_parallel_increments(requires_postgres, proctor, student):
    exam = make_exam(proctor)
    session = session_start(exam=exam, user=student)
    run_in_parallel(lambda: session_alert_opened(session=ExamSession.objects.get(pk=session.pk)))
    assert ExamSession.objects.get(pk=session.pk).open_high_alerts == THREADS
    run_in_parallel(lambda: session_alert_closed(session=ExamSession.objects.get(pk=session.pk)), count=THREADS + 2)
    assert ExamSession.objects.get(pk=session.pk).open_high_alerts == 0
