"""The socket's use cases: each is one synchronous hop the consumer makes with database_sync_to_async.

They resolve ids to objects the caller may touch (students only their own sessions), call the
service that changes state, and return plain data for the reply and the pushes (monitoring.pushes)
that change implies. The consumer queues those in its outbox once the hop has returned (committed).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from exampulse.platform.errors import DomainError, NotFound
from exams import clock as exam_clock
from exams import selectors as exam_selectors
from exams import sessions as exam_sessions
from exams.exceptions import SessionNotActive
from exams.models import ExamSession
from monitoring import pushes
from monitoring.ingest import services
from monitoring.ingest.activity import Activity, FrameError
from monitoring.live import presence
from monitoring.models import Alert, Event, Presence, RaisedHand
from monitoring.proctoring import alerts, hands, timecontrol, warning
from monitoring.pushes import Push

Pushes = list[Push]


@dataclass
class StudentJoin:
    session_id: int | None
    reply: dict[str, Any]
    pushes: Pushes = field(default_factory=list)


def _session_summary(session: ExamSession | None, *, risk: bool = True) -> dict[str, Any]:
    if session is None:
        return {"session_id": None, "status": None, "deadline_at": None}
    summary = {
        "session_id": session.pk,
        "status": session.status,
        "started_at": session.started_at.isoformat(),
        "deadline_at": session.deadline_at.isoformat(),
    }
    if risk:
        summary.update(risk_score=session.risk_score, risk_level=session.risk_level)
    return summary


def _reconnected(session_ids: set[int]) -> dict[int, tuple[datetime, int]]:
    """The sessions whose last connection event was a disconnect (the student is coming back), with
    when their last socket left (server clock) and their paused_seconds then: one query per batch."""
    if not session_ids:
        return {}
    rows = (
        Event.objects.filter(session_id__in=session_ids, event_type__in=("disconnected", "reconnected"))
        .order_by("session_id", "-timestamp", "-id")
        .values_list("session_id", "event_type", "timestamp", "event_data")
    )
    last: dict[int, tuple[str, datetime, dict]] = {}
    for session_id, event_type, timestamp, data in rows:
        last.setdefault(session_id, (event_type, timestamp, data or {}))
    return {
        session_id: (timestamp, int(data.get("paused_seconds", 0) or 0))
        for session_id, (event_type, timestamp, data) in last.items()
        if event_type == "disconnected"
    }


def _time_summary(session: ExamSession | None) -> dict[str, Any]:
    """Time control seen on join: the time given back for drops, and warnings so far."""
    if session is None:
        return {}
    return {"time_compensated_seconds": session.time_compensated_seconds, "warnings_count": session.warnings_count}


def _technical(session_id: int, exam_id: int, event_type: str, payload: dict | None = None) -> services.IngestRequest:
    """A connection event the server records itself (never scored)."""
    return services.IngestRequest(
        session_id, Activity(exam_id=exam_id, event_type=event_type, payload=payload or {}, is_technical=True)
    )


@dataclass(frozen=True)
class JoinRequest:
    exam_id: int
    user: Any
    channel_name: str


def students_join(requests: list[JoinRequest]) -> list[StudentJoin | Exception]:
    """Many students' sockets join their exams, with a fixed number of queries for the whole batch.

    Each open session is resumed (a `reconnected` event when the student had dropped). One outcome
    per request: the join, or why it was refused (no such exam, say).
    """
    sessions = exam_selectors.sessions_open_for(pairs=[(r.user, r.exam_id) for r in requests])
    outcomes: list[StudentJoin | Exception] = []
    arrivals: list[tuple[int, presence.Arrival]] = []
    for index, r in enumerate(requests):
        session = sessions.get((r.user.pk, r.exam_id))
        try:
            exam = session.exam if session else exam_selectors.exam_get_for_user(exam_id=r.exam_id, user=r.user)
        except DomainError as exc:
            outcomes.append(exc)
            continue
        if session is not None:
            session.user = r.user
        outcomes.append(StudentJoin(session_id=session.pk if session else None, reply={}))
        arrivals.append((index, presence.Arrival(r.channel_name, r.user, exam, session, "student")))
    now = timezone.now()
    firsts = presence.presence_join_many([arrival for _, arrival in arrivals], now=now)
    joined = {arrival.session.pk: arrival.session for _, arrival in arrivals if arrival.session is not None}
    # Their first event then runs on a snapshot (monitoring.ingest.snapshots), not a full read.
    services.sessions_warm(list(joined.values()))
    returning = _reconnected(set(joined))
    # Time lost to a drop of 30 s or more is given back (up to the exam's grace): one lock and one
    # bulk UPDATE for the batch (exams.clock.sessions_compensate_disconnects).
    compensations = exam_clock.sessions_compensate_disconnects(returns=returning, at=now, read=joined)
    for session_id, given in compensations.items():
        joined[session_id].deadline_at = given.deadline_at
        joined[session_id].time_compensated_seconds = given.time_compensated_seconds
    # Proctors hear a returning student's `reconnected` event before the `student_joined` news.
    reconnects: dict[int, Pushes] = {}
    if returning:
        ordered = sorted(returning)
        events = services.events_ingest(
            [
                _technical(
                    session_id, joined[session_id].exam_id, "reconnected", _compensation_data(compensations, session_id)
                )
                for session_id in ordered
            ]
        )
        reconnects = {
            session_id: outcome.pushes
            for session_id, outcome in zip(ordered, events, strict=True)
            if not isinstance(outcome, Exception)
        }
    # What the exam's proctors are told of each first arrival: its dashboard row, as a refreshed list shows it.
    rows = presence.arrival_rows(
        [arrival for (_, arrival), first in zip(arrivals, firsts, strict=True) if first], connected_since=now
    )
    for (index, arrival), first in zip(arrivals, firsts, strict=True):
        session, user, exam = arrival.session, arrival.user, arrival.exam
        join = outcomes[index]
        join.reply = {
            "exam_id": exam.pk,
            "role": "student",
            # The student's own reply: risk only where the exam shows it (proctors' pushes always carry it).
            **_session_summary(session, risk=exam.show_risk_to_student),
            **_time_summary(session),
            "max_warnings": exam.max_warnings,
        }
        if session is not None:
            join.pushes.extend(reconnects.pop(session.pk, ()))
        if first:
            join.pushes.append(pushes.student_joined(exam_id=exam.pk, row=rows[(exam.pk, user.pk)]))
    return outcomes


def _compensation_data(compensations: dict, session_id: int) -> dict[str, int]:
    """The `reconnected` event's data: how long the student was away and what was given back."""
    given = compensations.get(session_id)
    if given is None:
        return {}
    return {"away_seconds": given.away_seconds, "compensated_seconds": given.compensated_seconds}


def student_may_join(*, exam_id: int, user) -> None:
    """Raise ExamNotFound unless the student may join this exam (checked before leaving another)."""
    exam_selectors.exam_get_for_user(exam_id=exam_id, user=user)


def proctor_join(*, exam_id: int, user, channel_name: str) -> list[dict[str, Any]]:
    """A proctor starts watching an exam in their scope (ExamNotFound otherwise); returns who is connected now.

    The consumer adds the socket to the exam's proctors group only after this returns, so a proctor
    outside the exam's course never receives its pushes.
    """
    exam = exam_selectors.exam_get_for_user(exam_id=exam_id, user=user)
    presence.presence_join(channel_name=channel_name, user=user, exam=exam, session=None, role="proctor")
    return presence.active_students(exam_id=exam.pk)


def _departures(rows: list[tuple[int, int, str, bool]]) -> Pushes:
    return [
        pushes.student_left(exam_id=exam_id, user_id=user_id)
        for exam_id, user_id, role, gone in rows
        if role == "student" and gone
    ]


def socket_leave(*, channel_name: str, exam_id: int) -> Pushes:
    """The socket leaves one exam (leave_exam)."""
    rows = list(Presence.objects.filter(channel_name=channel_name, exam_id=exam_id).values_list("exam_id", "user_id"))
    left = presence.presence_leave(channel_name=channel_name) if rows else []
    return _departures(left)


@dataclass(frozen=True)
class CloseRequest:
    channel_name: str
    session_id: int | None


def sockets_close(requests: list[CloseRequest]) -> list[Pushes | Exception]:
    """Many sockets are gone (an exam ends, a server drains): presence and disconnects in one batch.

    Each socket gets the pushes to send: its session's `disconnected` event, then `student_left`.
    """
    left = presence.presence_leave_many([r.channel_name for r in requests])
    gone_sessions = sorted(
        {
            r.session_id
            for r in requests
            if r.session_id is not None and any(gone for *_rest, gone in left[r.channel_name])
        }
    )
    disconnects: dict[int, Pushes] = {}
    if gone_sessions:
        rows = ExamSession.objects.filter(pk__in=gone_sessions).values_list("pk", "exam_id", "paused_seconds")
        exam_ids = {pk: exam_id for pk, exam_id, _ in rows}
        # Paused time so far, so that a pause during the drop is not given back twice on rejoin.
        paused = {pk: paused_seconds for pk, _, paused_seconds in rows}
        known = [session_id for session_id in gone_sessions if session_id in exam_ids]
        # A session that has closed meanwhile refuses its event; that is the answer, not an error.
        events = services.events_ingest(
            [
                _technical(session_id, exam_ids[session_id], "disconnected", {"paused_seconds": paused[session_id]})
                for session_id in known
            ]
        )
        disconnects = {
            session_id: outcome.pushes
            for session_id, outcome in zip(known, events, strict=True)
            if not isinstance(outcome, Exception)
        }
    return [[*disconnects.pop(r.session_id, ()), *_departures(left[r.channel_name])] for r in requests]


def student_session(*, exam_id: int, user, channel_name: str) -> int:
    """The student's open session for the joined exam (started over REST after joining)."""
    exam = exam_selectors.exam_get_for_user(exam_id=exam_id, user=user)
    session = exam_selectors.session_open_for(exam=exam, user=user)
    if session is None:
        raise SessionNotActive("Start the exam (POST /api/exams/<id>/start) before sending activity.")
    presence.presence_set_session(channel_name=channel_name, session_id=session.pk)
    return session.pk


def student_submit(*, exam_id: int, user, answers: Any, client_time_taken: Any) -> dict[str, Any]:
    """Submit the student's open session for this exam; the reply never carries an answer key."""
    exam = exam_selectors.exam_get_for_user(exam_id=exam_id, user=user)
    session = exam_selectors.session_open_for(exam=exam, user=user)
    if session is None:
        session = ExamSession.objects.filter(exam=exam, user=user).exclude(status="in_progress").order_by("-id").first()
        if session is None:
            raise SessionNotActive("You have no session for this exam to submit.")
    if not isinstance(answers, dict):
        raise FrameError("invalid_payload", "answers must be an object of question id -> answer.")
    if client_time_taken is not None and (
        isinstance(client_time_taken, bool) or not isinstance(client_time_taken, int | float)
    ):
        raise FrameError("invalid_payload", "time_taken must be a number of seconds.")
    session = exam_sessions.session_submit(
        session=session,
        answers=answers,
        client_time_taken=int(client_time_taken) if client_time_taken is not None else None,
    )
    return {
        "exam_id": exam.pk,
        "session_id": session.pk,
        "status": session.status,
        "score": session.score,
        "max_score": session.max_score,
        "is_late": session.is_late,
        "submitted_at": session.submitted_at.isoformat() if session.submitted_at else None,
        "time_taken_seconds": session.time_taken_seconds,
    }


def exam_active_students(*, exam_id: int, user) -> list[dict[str, Any]]:
    """Who is connected to an exam in the proctor's scope (ExamNotFound otherwise)."""
    exam_selectors.exam_get_for_user(exam_id=exam_id, user=user)
    return presence.active_students(exam_id=exam_id)


def _session_for_proctor(session_id: int, user) -> ExamSession:
    """The session if its exam is in the proctor's scope; SessionNotFound otherwise."""
    return exam_selectors.session_get_for_user(session_id=session_id, user=user)


@transaction.atomic
def warn(*, session_id: int, by, message: str, reason_code: str = "") -> tuple[Event, Pushes]:
    warned = warning.proctor_warn(
        session=_session_for_proctor(session_id, by), by=by, message=message, reason_code=reason_code
    )
    if not warned.limit_reached:
        return warned.event, warned.pushes
    # The last warning must reach the student before the termination closes their socket: both
    # leave on commit, in this order (the termination's push is registered by session_terminate).
    pushes.send_after_commit(warned.pushes)
    warning.warning_limit_terminate(session=warned.session, by=by)
    return warned.event, []


def resolve(*, alert_id: int, by, note: str) -> tuple[Alert, Pushes]:
    return alerts.alert_resolve(alert_id=alert_id, by=by, note=note)


@transaction.atomic
def terminate(*, session_id: int, by, reason: str, reason_code: str) -> ExamSession:
    session = _session_for_proctor(session_id, by)
    if not session.is_open:
        raise SessionNotActive("This exam session has already ended.")
    return exam_sessions.session_terminate(session=session, by=by, reason=reason, reason_code=reason_code)


# -- time control (proctors) -----------------------------------------------------------------


def extend_time(*, session_id: int, by, minutes: int, reason: str) -> tuple[ExamSession, Pushes]:
    return timecontrol.session_time_extend(
        session=_session_for_proctor(session_id, by), by=by, minutes=minutes, reason=reason
    )


def pause_session(*, session_id: int, by, reason: str, reason_code: str = "") -> tuple[ExamSession, Pushes]:
    return timecontrol.session_time_pause(
        session=_session_for_proctor(session_id, by), by=by, reason=reason, reason_code=reason_code
    )


def resume_session(*, session_id: int, by) -> tuple[ExamSession, Pushes]:
    return timecontrol.session_time_resume(session=_session_for_proctor(session_id, by), by=by)


def reset_attempt(*, session_id: int, by, reason: str) -> tuple[ExamSession, Pushes]:
    return timecontrol.session_attempt_reset(session=_session_for_proctor(session_id, by), by=by, reason=reason)


def hand_raise(*, exam_id: int, user, message: str) -> tuple[RaisedHand, Pushes]:
    """A student raises a hand in the exam they are taking (their open session only)."""
    exam = exam_selectors.exam_get_for_user(exam_id=exam_id, user=user)
    session = exam_selectors.session_open_for(exam=exam, user=user)
    if session is None:
        raise SessionNotActive("Start the exam before raising your hand.")
    return hands.hand_raise(session=session, message=message)


def hand_answer(*, hand_id: int, by, message: str) -> tuple[RaisedHand, Pushes]:
    """A proctor answers a hand of a session they may see; any other hand is `not_found`."""
    session_id = RaisedHand.objects.filter(pk=hand_id).values_list("session_id", flat=True).first()
    if session_id is None:
        raise NotFound("No such raised hand.")
    try:
        _session_for_proctor(session_id, by)
    except DomainError:
        # Same answer as a missing hand: a proctor cannot probe other courses' hands.
        raise NotFound("No such raised hand.") from None
    return hands.hand_answer(hand=RaisedHand(pk=hand_id), by=by, message=message)
