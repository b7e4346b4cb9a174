"""The ingestion fast path: each process's session snapshots (monitoring.ingest.snapshots).

A session's second batch runs on the snapshot its first batch left, with a narrow lock instead of
the full read; it must store and score exactly what the full read would, and anything that changes
what scoring reads (another writer's batch, a baseline, the exam's rules, the student's
accommodations, a rescore, a pause) must be seen by the very next batch. Transactional tests:
snapshots are kept only once a batch has committed.
"""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.db.models import F
from django.test.utils import CaptureQueriesContext

from exams.authoring import exam_update
from exams.clock import session_pause
from exams.exceptions import SessionPaused
from exams.models import ExamSession
from exams.sessions import session_start
from monitoring.ingest import services
from monitoring.ingest.activity import parse_activity
from monitoring.ingest.risk import session_rescore
from monitoring.ingest.snapshots import store
from monitoring.models import Event
from scoring.services import baseline_add_sample
from tests.monitoring.conftest import make_exam, session_record, student_with_baseline

pytestmark = pytest.mark.django_db(transaction=True)

STREAM = [
    ("typing_sample", {"wpm": 41}),
    ("tab_switch", {}),
    ("mouse_sample", {"speed_pxs": 395}),
    ("paste", {"chars": 120}),
    ("tab_switch", {}),
    ("window_focus", {"blur_duration_ms": 40_000}),
    ("typing_sample", {"wpm": 118}),
    ("question_answered", {"question_id": "q1", "time_spent_sec": 4}),
    ("tab_switch", {}),
    ("copy", {}),
    ("tab_switch", {}),
    ("typing_sample", {"wpm": 130}),
]


def ingest_one(session: ExamSession, event_type: str, payload: dict, key: str):
    activity = parse_activity({"exam_id": session.exam_id, "type": event_type, "client_event_id": key, **payload})
    [outcome] = services.events_ingest([services.IngestRequest(session.pk, activity)])
    if isinstance(outcome, Exception):
        raise outcome
    return outcome


def recorded(session: ExamSession) -> dict:
    record = session_record(session)  # refreshes the session
    alerts = list(session.alerts.order_by("id").values_list("message", flat=True))
    return {**record, "anomaly_score": session.anomaly_score, "components": session.risk_components, "messages": alerts}


def test_a_session_scores_the_same_on_snapshots_as_on_full_reads(proctor, settings):
    exam = make_exam(proctor)
    fast = session_start(exam=exam, user=student_with_baseline())
    for index, (event_type, payload) in enumerate(STREAM):
        ingest_one(fast, event_type, payload, f"e{index}")
    assert len(store) == 1

    settings.EXAMPULSE = {**settings.EXAMPULSE, "SESSION_SNAPSHOTS": 0}
    store.clear()
    slow = session_start(exam=exam, user=student_with_baseline())
    for index, (event_type, payload) in enumerate(STREAM):
        ingest_one(slow, event_type, payload, f"e{index}")
    assert len(store) == 0

    assert recorded(fast) == recorded(slow)
    assert recorded(fast)["alerts"], "the stream is meant to raise alerts"


def session_reads(queries) -> list[str]:
    return [q["sql"] for q in queries.captured_queries if 'FROM "exam_sessions"' in q["sql"]]


def test_a_batch_on_a_current_snapshot_reads_no_session_row(proctor):
    session = session_start(exam=make_exam(proctor), user=student_with_baseline())
    ingest_one(session, "typing_sample", {"wpm": 40}, "first")
    with CaptureQueriesContext(connection) as queries:
        ingest_one(session, "mouse_sample", {"speed_pxs": 400}, "second")
    assert session_reads(queries) == []
    session.refresh_from_db()
    assert session.state_version == 2
    assert session.behaviour["events"] == 2


def test_a_retried_event_is_stored_once_and_folded_once(proctor):
    session = session_start(exam=make_exam(proctor), user=student_with_baseline())
    ingest_one(session, "tab_switch", {}, "a")
    activity = parse_activity({"exam_id": session.exam_id, "type": "tab_switch", "client_event_id": "a"})
    fresh = parse_activity({"exam_id": session.exam_id, "type": "tab_switch", "client_event_id": "b"})
    retried, new = services.events_ingest(
        [services.IngestRequest(session.pk, activity), services.IngestRequest(session.pk, fresh)]
    )
    assert retried.duplicate and not new.duplicate
    session.refresh_from_db()
    assert session.behaviour["tab_switches"] == 2
    assert list(Event.objects.filter(session=session).values_list("client_event_id", flat=True).order_by("id")) == [
        "a",
        "b",
    ]
    # And the fast path is back for the next batch.
    ingest_one(session, "tab_switch", {}, "c")
    session.refresh_from_db()
    assert session.behaviour["tab_switches"] == 3


def test_another_writers_batch_is_seen_by_the_next_one(proctor):
    """A batch stored by another process bumps the version: this process's snapshot is not used."""
    session = session_start(exam=make_exam(proctor), user=student_with_baseline())
    ingest_one(session, "tab_switch", {}, "here-1")
    held = store.take({session.pk})  # as if the other process took it from its own store
    ingest_one(session, "tab_switch", {}, "elsewhere")
    for snapshot in held.values():
        store.put(snapshot)  # this process still holds the older version
    ingest_one(session, "tab_switch", {}, "here-2")
    session.refresh_from_db()
    assert session.behaviour["tab_switches"] == 3
    assert session.behaviour["events"] == 3


def test_a_baseline_change_mid_exam_does_not_move_the_sessions_score(proctor):
    """The session scores against the baseline snapshot taken at its start, warm snapshot or not."""
    user = student_with_baseline()
    session = session_start(exam=make_exam(proctor), user=user)
    first = ingest_one(session, "typing_sample", {"wpm": 80}, "t1")
    for _ in range(3):  # written behind the session's back (the student's own door refuses it)
        baseline_add_sample(user=user, sample={"typing_speed_wpm": 85, "mouse_speed_pxs": 400})
    second = ingest_one(session, "typing_sample", {"wpm": 80}, "t2")
    store.clear()
    third = ingest_one(session, "typing_sample", {"wpm": 80}, "t3")
    assert first.risk_score == second.risk_score == third.risk_score > 0


def test_an_exam_rule_change_mid_exam_scores_the_next_batch(proctor):
    exam = make_exam(proctor, allow_tab_switch=False)
    session = session_start(exam=exam, user=student_with_baseline())
    before = ingest_one(session, "tab_switch", {}, "s1")
    exam_update(exam=exam, by=proctor, data={"allow_tab_switch": True})
    after = ingest_one(session, "tab_switch", {}, "s2")
    assert before.event.severity != after.event.severity
    assert after.risk_score <= before.risk_score


def test_accommodations_changed_mid_exam_apply_from_the_next_session_on(proctor):
    """A session keeps the accommodations applied at its start (its exemptions among them)."""
    user = student_with_baseline()
    session = session_start(exam=make_exam(proctor), user=user)
    for index in range(4):
        before = ingest_one(session, "tab_switch", {}, f"x{index}")
    assert before.risk_score > 0
    user.accommodations = {"exempt_signals": ["tab_switch"]}
    user.save(update_fields=["accommodations"])
    after = ingest_one(session, "tab_switch", {}, "x-exempt")
    assert after.risk_score >= before.risk_score
    later = session_start(exam=make_exam(proctor, name="Next"), user=user)
    assert ingest_one(later, "tab_switch", {}, "y1").risk_score == 0.0
    for index in range(4):
        exempt = ingest_one(later, "tab_switch", {}, f"y{index + 2}")
    assert exempt.risk_score == 0.0


def test_a_pause_is_seen_by_the_next_batch_without_a_version_bump(proctor):
    session = session_start(exam=make_exam(proctor), user=student_with_baseline())
    ingest_one(session, "tab_switch", {}, "p1")
    session_pause(session=session, by=proctor, reason="fire alarm")
    with pytest.raises(SessionPaused):
        ingest_one(session, "tab_switch", {}, "p2")


def test_a_rescore_invalidates_the_snapshot(proctor):
    session = session_start(exam=make_exam(proctor), user=student_with_baseline())
    ingest_one(session, "tab_switch", {}, "r1")
    version = ExamSession.objects.get(pk=session.pk).state_version
    session_rescore(session=ExamSession.objects.select_related("exam", "user").get(pk=session.pk))
    assert ExamSession.objects.get(pk=session.pk).state_version == version + 1
    # A row edited behind the snapshot's back, with the version bumped, is what the next batch folds into.
    ExamSession.objects.filter(pk=session.pk).update(
        behaviour={**session.behaviour, "tab_switches": 10}, state_version=F("state_version") + 1
    )
    session.refresh_from_db()
    ingest_one(session, "tab_switch", {}, "r2")
    session.refresh_from_db()
    assert session.behaviour["tab_switches"] == 11


def test_a_rolled_back_batch_leaves_no_snapshot(proctor):
    session = session_start(exam=make_exam(proctor), user=student_with_baseline())
    ingest_one(session, "tab_switch", {}, "k1")
    assert len(store) == 1

    def fails_after_ingesting() -> None:
        with transaction.atomic():
            ingest_one(session, "tab_switch", {}, "k2")
            raise RuntimeError("the caller's transaction fails")

    with pytest.raises(RuntimeError):
        fails_after_ingesting()
    assert len(store) == 0
    ingest_one(session, "tab_switch", {}, "k3")
    session.refresh_from_db()
    assert session.behaviour["tab_switches"] == 2
    assert not Event.objects.filter(client_event_id="k2").exists()


def test_a_joined_sessions_first_event_reads_no_session_row(proctor):
    from monitoring.live.usecases import JoinRequest, students_join

    user = student_with_baseline()
    session = session_start(exam=make_exam(proctor), user=user)
    [joined] = students_join([JoinRequest(session.exam_id, user, "test.channel!1")])
    assert joined.session_id == session.pk
    with CaptureQueriesContext(connection) as queries:
        first = ingest_one(session, "typing_sample", {"wpm": 90}, "first")
    assert session_reads(queries) == []
    # The join fetched the baseline too (one query for the whole join batch).
    assert not [q for q in queries.captured_queries if 'FROM "baselines"' in q["sql"]]
    # Scored against the student's baseline (40 wpm), as a full read would have.
    store.clear()
    again = session_start(exam=make_exam(proctor), user=student_with_baseline())
    assert ingest_one(again, "typing_sample", {"wpm": 90}, "first").risk_score == first.risk_score > 0


def test_a_batch_with_one_stale_snapshot_stores_every_session_once(proctor):
    exam = make_exam(proctor)
    fresh = session_start(exam=exam, user=student_with_baseline())
    stale = session_start(exam=exam, user=student_with_baseline())
    ingest_one(fresh, "tab_switch", {}, "a1")
    ingest_one(stale, "tab_switch", {}, "b1")
    # Another writer moves `stale` on behind this process's snapshot.
    ExamSession.objects.filter(pk=stale.pk).update(state_version=F("state_version") + 1)
    requests = [
        services.IngestRequest(
            session.pk, parse_activity({"exam_id": exam.pk, "type": "tab_switch", "client_event_id": key})
        )
        for session, key in ((fresh, "a2"), (stale, "b2"), (fresh, "a3"))
    ]
    outcomes = services.events_ingest(requests)
    assert [outcome.duplicate for outcome in outcomes] == [False, False, False]
    assert len({outcome.event.pk for outcome in outcomes}) == 3
    for session, switches in ((fresh, 3), (stale, 2)):
        session.refresh_from_db()
        assert session.behaviour["tab_switches"] == switches
        assert Event.objects.filter(session=session).count() == switches
