"""Every server -> client frame, and the one way a push leaves.

`SERVER_EVENTS` names every frame the server sends (replies to the socket that asked, and pushes),
each with the schema of its payload in `monitoring.frame_types`, and `frame()` builds one, refusing
any other name. The builders below (`student_activity`,
`high_risk_alert`, `alert_resolved`, `proctor_warning`, `student_joined`, `student_left`,
`student_submitted`, `session_terminated`, and time control's `time_extended`, `session_paused`,
`session_resumed`, `attempt_reset`, and `access_revoked`) each return a `Push`: the group that hears it and the
channel-layer message. Services return the pushes their change implies and never send them; their
callers do, through the one sender:

- synchronous code (REST views, admin actions, management commands, exams' signal receivers, and
  a socket use case whose push must leave on commit ahead of another: the warning that ends a
  session) calls `send_after_commit(pushes)`: once the transaction has committed, each push is sent in
  order within a bounded time (monitoring.broadcast), so nobody hears of a row that rolled back;
- the socket consumer queues them in its outbox, which hands them to `asend`, the same code path:
  a socket's pushes leave in order after its acknowledgement and never delay it.

Imports only Django, asgiref, monitoring.broadcast and monitoring.frame_types, so every room (ingest
included) may use it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

from asgiref.sync import async_to_sync
from django.db import transaction

from monitoring.broadcast import agroup_send, proctors_group, student_group, user_group
from monitoring.frame_types import SCHEMAS

if TYPE_CHECKING:
    from exams.models import ExamSession
    from monitoring.models import Alert, Event, RaisedHand

# Server -> client frame names: every frame the server sends is one of these (frame() refuses others),
# each with the schema of its data in monitoring.frame_types.
SERVER_EVENTS = frozenset(SCHEMAS)


def frame(event: str, /, **data: Any) -> dict[str, Any]:
    """Build one server -> client frame: `data` is the payload its schema (monitoring.frame_types.SCHEMAS)
    declares; a name without a schema is a bug and raises ValueError. The tests hold every frame they
    receive against its schema (frame_types.check_frame); production does not pay for the check."""
    if event not in SCHEMAS:
        raise ValueError(f"{event!r} is not a server -> client frame name (monitoring.frame_types.SCHEMAS)")
    return {"event": event, "data": data}


# Channel-layer message types: prefixed, and mapped to consumer methods (`monitoring.push` -> `monitoring_push`).
PUSH = "monitoring.push"  # deliver a frame to the client as it is
CLOSE = "monitoring.close"  # deliver a frame, then close the socket with a code
REVOKE = "monitoring.revoke"  # the user lost these exams: each socket says `access_revoked` and leaves them
BATCH = "monitoring.batch"  # several of the above for one group, delivered in order (see `asend`)
# The code a student's socket closes with when a proctor ends the session.
CLOSE_TERMINATED = 4403


def push_message(event: str, /, **data: Any) -> dict[str, Any]:
    """A channel-layer message that delivers one frame to every socket in the group."""
    return {"type": PUSH, "frame": frame(event, **data)}


def close_message(event: str, /, *, code: int, **data: Any) -> dict[str, Any]:
    """A channel-layer message that delivers one frame, then closes each socket with `code`."""
    return {"type": CLOSE, "frame": frame(event, **data), "code": code}


@dataclass(frozen=True)
class Push:
    """One message for one group, built here and sent only by `send_after_commit` or `asend`."""

    group: str
    message: dict[str, Any]


# -- what each state change tells the live side ---------------------------------------------


def student_activity(session: ExamSession, event: Event, result: Any) -> Push:
    """The exam's proctors see a stored event and the risk after it (`result`: risk_score, risk_level)."""
    return Push(
        proctors_group(session.exam_id),
        push_message(
            "student_activity",
            user_id=session.user_id,
            name=session.user.name,
            session_id=session.pk,
            exam_id=session.exam_id,
            event_id=event.pk,
            client_event_id=event.client_event_id,
            event_type=event.event_type,
            severity=event.severity,
            is_technical=event.is_technical,
            data=event.event_data,
            timestamp=event.timestamp.isoformat(),
            risk_score=result.risk_score,
            risk_level=result.risk_level,
        ),
    )


def alert_payload(alert: Alert, *, session: ExamSession) -> dict[str, Any]:
    """An alert as proctors see it (the `high_risk_alert` data): `risk_score`/`risk_level` are the
    risk the alert was raised at, `session_risk_score`/`session_risk_level` the student's risk as
    this payload is built (the dashboard's card shows both; the row keeps the latter current)."""
    return {
        "alert_id": alert.pk,
        "alert_type": alert.alert_type,
        "user_id": session.user_id,
        "name": session.user.name,
        "session_id": session.pk,
        "exam_id": session.exam_id,
        "risk_score": alert.risk_score,
        "risk_level": alert.risk_level,
        "session_risk_score": session.risk_score,
        "session_risk_level": session.risk_level,
        "severity": alert.severity,
        "message": alert.message,
        "components": alert.components,
        "resolved": alert.resolved,
        "created_at": alert.created_at.isoformat() if alert.created_at else None,
    }


def high_risk_alert(alert: Alert, session: ExamSession) -> Push:
    """The exam's proctors see a new alert."""
    return Push(
        proctors_group(session.exam_id), push_message("high_risk_alert", **alert_payload(alert, session=session))
    )


def alert_resolved(alert: Alert, *, by, note: str) -> Push:
    """The exam's proctors see who resolved an alert."""
    session = alert.session
    return Push(
        proctors_group(session.exam_id),
        push_message(
            "alert_resolved",
            alert_id=alert.pk,
            session_id=session.pk,
            exam_id=session.exam_id,
            resolved_by=by.pk,
            resolved_by_name=by.name,
            note=note,
        ),
    )


def proctor_warning(
    session: ExamSession, *, by, message: str, count: int | None = None, limit: int | None = None
) -> Push:
    """The student's sockets show a proctor's warning: warning `count` of `limit` (None: no limit)."""
    return Push(
        student_group(session.pk),
        push_message(
            "proctor_warning",
            session_id=session.pk,
            exam_id=session.exam_id,
            message=message,
            from_name=by.name,
            count=count,
            limit=limit,
        ),
    )


def hand_payload(hand: RaisedHand, *, session: ExamSession) -> dict[str, Any]:
    """An open raised hand as proctors see it (the `hand_raised` data, and each student's `hand`)."""
    return {
        "hand_id": hand.pk,
        "session_id": session.pk,
        "exam_id": session.exam_id,
        "user_id": session.user_id,
        "name": session.user.name,
        "message": hand.message,
        "raised_at": hand.raised_at.isoformat() if hand.raised_at else None,
    }


def hand_raised(hand: RaisedHand, session: ExamSession) -> Push:
    """The exam's proctors see a student ask for help."""
    return Push(proctors_group(session.exam_id), push_message("hand_raised", **hand_payload(hand, session=session)))


def hand_answered(hand: RaisedHand, session: ExamSession, *, by) -> list[Push]:
    """The student reads the answer; the exam's proctors see the hand closed (and by whom)."""
    payload = {"hand_id": hand.pk, "session_id": session.pk, "exam_id": session.exam_id, "message": hand.answer}
    return [
        Push(student_group(session.pk), push_message("hand_answered", **payload, from_name=by.name)),
        Push(
            proctors_group(session.exam_id),
            push_message("hand_answered", **payload, user_id=session.user_id, answered_by=by.pk),
        ),
    ]


def student_joined(*, exam_id: int, row: dict[str, Any]) -> Push:
    """The exam's proctors see a student's first socket arrive, with the student's whole dashboard row
    (monitoring.live.presence.arrival_rows: the row `active_students` lists)."""
    return Push(proctors_group(exam_id), push_message("student_joined", **{**row, "exam_id": exam_id}))


def student_left(*, exam_id: int, user_id: int) -> Push:
    """The exam's proctors see a student's last socket go."""
    return Push(proctors_group(exam_id), push_message("student_left", user_id=user_id, exam_id=exam_id))


def student_submitted(session: ExamSession) -> Push:
    """The exam's proctors see a submitted (or auto-submitted) session."""
    return Push(
        proctors_group(session.exam_id),
        push_message(
            "student_submitted",
            user_id=session.user_id,
            session_id=session.pk,
            exam_id=session.exam_id,
            status=session.status,
            is_late=session.is_late,
            auto_submitted=session.auto_submitted,
            risk_score=session.risk_score,
            risk_level=session.risk_level,
        ),
    )


def session_terminated(session: ExamSession, *, by, reason: str) -> list[Push]:
    """The student's sockets hear why and close (CLOSE_TERMINATED); the exam's proctors hear who ended it."""
    payload = {
        "session_id": session.pk,
        "exam_id": session.exam_id,
        "reason": reason,
        "reason_code": session.termination_reason_code,
    }
    return [
        Push(student_group(session.pk), close_message("session_terminated", code=CLOSE_TERMINATED, **payload)),
        Push(
            proctors_group(session.exam_id),
            push_message(
                "session_terminated",
                user_id=session.user_id,
                by=getattr(by, "pk", None),
                status=session.status,
                **payload,
            ),
        ),
    ]


def _to_student_and_proctors(session: ExamSession, student: dict[str, Any], proctors: dict[str, Any]) -> list[Push]:
    """One frame to the student's sockets and the same, with whose session it is, to the exam's proctors."""
    return [Push(student_group(session.pk), student), Push(proctors_group(session.exam_id), proctors)]


def time_extended(session: ExamSession, *, minutes: int) -> list[Push]:
    """The student's countdown moves to the new deadline; proctors see it too."""
    data = {"session_id": session.pk, "deadline_at": session.deadline_at.isoformat(), "minutes": minutes}
    return _to_student_and_proctors(
        session,
        push_message("time_extended", **data),
        # Proctors' rows show the extra time given so far.
        push_message("time_extended", user_id=session.user_id, extended_seconds=session.extended_seconds, **data),
    )


def session_paused(session: ExamSession, *, reason: str) -> list[Push]:
    """The student's page shows the pause and holds its events; proctors see it too."""
    data = {"session_id": session.pk, "reason": reason}
    return _to_student_and_proctors(
        session,
        push_message("session_paused", **data),
        push_message("session_paused", user_id=session.user_id, **data),
    )


def session_resumed(session: ExamSession) -> list[Push]:
    """The student's page lifts the pause, sends what it held and counts down to the moved deadline."""
    data = {"session_id": session.pk, "deadline_at": session.deadline_at.isoformat()}
    return _to_student_and_proctors(
        session,
        push_message("session_resumed", **data),
        push_message("session_resumed", user_id=session.user_id, **data),
    )


def attempt_reset(session: ExamSession) -> list[Push]:
    """The student's page learns the attempt was voided and may start again; the socket stays open."""
    data = {"session_id": session.pk, "exam_id": session.exam_id}
    return _to_student_and_proctors(
        session,
        push_message("attempt_reset", **data),
        push_message("attempt_reset", user_id=session.user_id, **data),
    )


def access_revoked(*, user_id: int, exam_ids: list[int]) -> Push:
    """Every socket of the user, on every process, stops streaming these exams (each hears `access_revoked`)."""
    return Push(user_group(user_id), {"type": REVOKE, "exam_ids": list(exam_ids)})


# -- the one way out ------------------------------------------------------------------------


def send_after_commit(pushes: Iterable[Push]) -> None:
    """Send the pushes in order once the current transaction commits (at once outside one).

    For synchronous callers. A rolled-back transaction sends nothing; a layer outage costs at most
    one bounded wait per push (monitoring.broadcast), logged and never raised.
    """
    pushes = list(pushes)
    if pushes:
        transaction.on_commit(partial(_send, pushes))


def _send(pushes: list[Push]) -> None:
    async_to_sync(asend)(pushes)


async def asend(pushes: Iterable[Push], *, from_outbox: bool = False) -> None:
    """Send the pushes in order, each within a bounded time; the async form of `send_after_commit`.

    Callers hold only committed state: the commit hook above, or the socket consumer after its hop
    returned (`from_outbox=True` for its outbox, which holds up nobody while it waits).
    """
    for group, messages in _runs(pushes):
        # Consecutive pushes to one group travel as one channel-layer message: a student who drops
        # and comes back tells the exam's proctors two things each time (the `disconnected` event and
        # `student_left`, then `reconnected` and `student_joined`), and at an exam's start every
        # publish and every delivery to each proctor's socket is CPU the server spends per join.
        message = messages[0] if len(messages) == 1 else {"type": BATCH, "messages": messages}
        # The group travels with the message: a socket that just left a group (access revoked) drops
        # what that group had already queued for it.
        await agroup_send(group, {**message, "group": group}, from_outbox=from_outbox)


def _runs(pushes: Iterable[Push]) -> list[tuple[str, list[dict[str, Any]]]]:
    """The pushes as runs of consecutive messages to one group, in order (never reordered across groups)."""
    runs: list[tuple[str, list[dict[str, Any]]]] = []
    for push in pushes:
        if runs and runs[-1][0] == push.group:
            runs[-1][1].append(push.message)
        else:
            runs.append((push.group, [push.message]))
    return runs
