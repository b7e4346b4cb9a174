"""Disconnect compensation (docs/design.md, part two): a drop of 30 s or more gives the time back, up to the
exam's grace per session. Clocks are controlled: `at=` for the services, a back-dated
`disconnected` event for the socket path."""

from __future__ import annotations

from datetime import timedelta

import pytest
from channels.db import database_sync_to_async
from django.utils import timezone

from exams.models import ExamSession
from exams.services import compensation_for, session_start, sessions_compensate_disconnects
from monitoring.models import Event
from tests.monitoring.conftest import make_exam

T0 = timezone.now().replace(microsecond=0)
DEADLINE = T0 + timedelta(hours=1)


def given(away_seconds: int, *, grace: int = 5, already: int = 0, **kw) -> int:
    at = T0 + timedelta(minutes=10)
    _away, seconds = compensation_for(
        disconnected_at=at - timedelta(seconds=away_seconds),
        at=at,
        deadline_at=kw.pop("deadline_at", DEADLINE),
        grace_minutes=grace,
        already_compensated=already,
        **kw,
    )
    return seconds


@pytest.mark.parametrize(
    ("away", "grace", "already", "expected"),
    [
        (10, 5, 0, 0),  # a blip earns nothing
        (29, 5, 0, 0),
        (30, 5, 0, 30),  # the threshold itself counts
        (120, 5, 0, 120),
        (120, 0, 0, 0),  # grace 0: off
        (400, 5, 0, 300),  # capped at the grace
        (120, 5, 250, 50),  # the running total is capped, not each drop
        (120, 5, 300, 0),
    ],
)
def test_compensation_rules(away, grace, already, expected):
    assert given(away, grace=grace, already=already) == expected


def test_nothing_when_back_after_the_deadline():
    assert given(120, deadline_at=T0 + timedelta(minutes=9)) == 0


def test_a_paused_session_earns_nothing_and_pause_time_is_not_counted_twice():
    assert given(120, paused=True) == 0
    assert given(120, paused_meanwhile=100) == 20


@pytest.mark.django_db
class TestSessionsCompensate:
    def _session(self, proctor, student, grace=5):
        exam = make_exam(proctor, disconnect_grace_minutes=grace)
        return session_start(exam=exam, user=student, at=T0)

    def test_away_two_minutes_moves_the_deadline_by_120_s(self, proctor, student):
        session = self._session(proctor, student)
        at = T0 + timedelta(minutes=10)
        out = sessions_compensate_disconnects(returns={session.pk: (at - timedelta(minutes=2), 0)}, at=at)
        stored = ExamSession.objects.get(pk=session.pk)
        assert out[session.pk].compensated_seconds == 120
        assert stored.deadline_at == session.deadline_at + timedelta(seconds=120)
        assert stored.time_compensated_seconds == 120

    def test_repeated_drops_are_capped_at_the_grace_in_total(self, proctor, student):
        session = self._session(proctor, student, grace=5)
        for minute in (5, 10, 15, 20):
            at = T0 + timedelta(minutes=minute)
            sessions_compensate_disconnects(returns={session.pk: (at - timedelta(minutes=2), 0)}, at=at)
        stored = ExamSession.objects.get(pk=session.pk)
        assert stored.time_compensated_seconds == 300
        assert stored.deadline_at == session.deadline_at + timedelta(seconds=300)

    def test_grace_zero_and_a_short_drop_change_nothing(self, proctor, student, other_student):
        off = self._session(proctor, student, grace=0)
        at = T0 + timedelta(minutes=10)
        short = session_start(exam=make_exam(proctor, disconnect_grace_minutes=5), user=other_student, at=T0)
        sessions_compensate_disconnects(
            returns={off.pk: (at - timedelta(minutes=2), 0), short.pk: (at - timedelta(seconds=10), 0)}, at=at
        )
        for session in (off, short):
            stored = ExamSession.objects.get(pk=session.pk)
            assert stored.deadline_at == session.deadline_at and stored.time_compensated_seconds == 0

    def test_away_past_the_deadline_earns_nothing(self, proctor, student):
        session = self._session(proctor, student)
        at = session.deadline_at + timedelta(seconds=30)  # within the submit grace: still open
        sessions_compensate_disconnects(returns={session.pk: (at - timedelta(minutes=3), 0)}, at=at)
        stored = ExamSession.objects.get(pk=session.pk)
        assert stored.deadline_at == session.deadline_at and stored.time_compensated_seconds == 0


@pytest.mark.django_db(transaction=True)
async def test_rejoin_after_two_minutes_moves_the_deadline_and_tells_everyone(ws_connect, student, proctor):
    @database_sync_to_async
    def setup():
        exam = make_exam(proctor, disconnect_grace_minutes=5)
        return exam, session_start(exam=exam, user=student)

    @database_sync_to_async
    def back_date_disconnect(session):
        # The student's last socket left two minutes ago (server clock).
        Event.objects.filter(session=session, event_type="disconnected").update(
            timestamp=timezone.now() - timedelta(minutes=2)
        )

    exam, session = await setup()
    socket = await ws_connect(student)
    await socket.send("join_exam", exam_id=exam.pk)
    first = await socket.expect("joined_exam")
    assert first["time_compensated_seconds"] == 0
    await socket.communicator.disconnect()
    await back_date_disconnect(session)

    watcher = await ws_connect(proctor)
    await watcher.send("join_exam", exam_id=exam.pk)
    await watcher.expect("active_students")
    again = await ws_connect(student)
    await again.send("join_exam", exam_id=exam.pk)
    reply = await again.expect("joined_exam")
    assert 120 <= reply["time_compensated_seconds"] <= 122
    moved = timedelta(seconds=reply["time_compensated_seconds"])
    assert reply["deadline_at"] == (session.deadline_at + moved).isoformat()
    joined = await watcher.expect("student_joined")
    assert joined["time_compensated_seconds"] == reply["time_compensated_seconds"]
    event = await database_sync_to_async(Event.objects.get)(session=session, event_type="reconnected")
    assert event.event_data["compensated_seconds"] == reply["time_compensated_seconds"]
    assert event.event_data["away_seconds"] >= 120
