"""A session's lifecycle in one table: which move may take a session from which state to which.

A session's state is its status, with an open (`in_progress`) session told apart by its clock:
`running`, or `paused` while a proctor holds it. Every change of `status` or `paused_at` goes
through `session_move`, which applies a move the table allows and refuses any other with the
domain error that says why (a 409 with `details.code` over REST, an `error` frame over the socket).
`tests/exams/test_statuses.py` fails if code anywhere else writes either field.

Whether a move is due (the deadline passed, the caller is a proctor, a reason was given) is for
the service that asks for it (exams.sessions, exams.clock); this module only knows the moves.
After edx-exams' `statuses.py`.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from exams.exceptions import (
    SessionAlreadyPaused,
    SessionMoveRefused,
    SessionNotActive,
    SessionNotPaused,
    SessionPaused,
)
from exams.models import ExamSession, SessionStatus


class State(StrEnum):
    RUNNING = "running"
    PAUSED = "paused"
    SUBMITTED = SessionStatus.SUBMITTED.value
    FLAGGED = SessionStatus.FLAGGED.value


class Move(StrEnum):
    SUBMIT = "submit"  # the student hands in
    EXPIRE = "expire"  # the deadline (plus grace) passed: closed with what was saved
    TERMINATE = "terminate"  # a proctor ends it
    PAUSE = "pause"  # a proctor stops its clock
    RESUME = "resume"  # a proctor restarts its clock
    RESET = "reset"  # a proctor voids an open attempt (a finished one is voided without a move)


CLOSED = frozenset({State.SUBMITTED, State.FLAGGED})

TRANSITIONS: dict[Move, dict[State, frozenset[State]]] = {
    # A session that ends with an unresolved high-risk alert ends flagged, so these end either way.
    Move.SUBMIT: {State.RUNNING: CLOSED},
    Move.EXPIRE: {State.RUNNING: CLOSED},
    Move.TERMINATE: {State.RUNNING: frozenset({State.FLAGGED}), State.PAUSED: frozenset({State.FLAGGED})},
    Move.PAUSE: {State.RUNNING: frozenset({State.PAUSED})},
    Move.RESUME: {State.PAUSED: frozenset({State.RUNNING})},
    # Not `flagged`: a voided attempt is not for review.
    Move.RESET: {State.RUNNING: frozenset({State.SUBMITTED}), State.PAUSED: frozenset({State.SUBMITTED})},
}

# Why an open session refuses a move (a closed one refuses every move with SessionNotActive).
_REFUSALS: dict[tuple[Move, State], type[SessionMoveRefused]] = {
    (Move.SUBMIT, State.PAUSED): SessionPaused,
    (Move.EXPIRE, State.PAUSED): SessionPaused,
    (Move.PAUSE, State.PAUSED): SessionAlreadyPaused,
    (Move.RESUME, State.RUNNING): SessionNotPaused,
}


def state_of(session: ExamSession) -> State:
    """The session's place in the table: its status, with an open session running or paused."""
    if session.status == SessionStatus.IN_PROGRESS:
        return State.PAUSED if session.paused_at is not None else State.RUNNING
    return State(session.status)


def refusal(session: ExamSession, move: Move) -> SessionMoveRefused | None:
    """The error that refuses `move` from the session's state, or None when the table allows it."""
    state = state_of(session)
    if state in TRANSITIONS[move]:
        return None
    if state in CLOSED:
        return SessionNotActive(details={"status": session.status})
    error = _REFUSALS.get((move, state), SessionMoveRefused)
    if error is SessionAlreadyPaused:
        return error(details={"paused_at": session.paused_at.isoformat()})
    return error()


def check_move(session: ExamSession, move: Move) -> None:
    """Raise the refusal of `move` from the session's state, if the table has none; for services
    that refuse before they do any other work (reading answers, taking the clock)."""
    error = refusal(session, move)
    if error is not None:
        raise error


def session_move(session: ExamSession, move: Move, *, to: State, at: datetime) -> None:
    """Apply one move the table allows to a locked session's `status` and `paused_at` (the caller
    saves the row, with whatever else the move changes); raise the refusal otherwise."""
    check_move(session, move)
    if to not in TRANSITIONS[move][state_of(session)]:
        raise SessionMoveRefused(details={"move": move.value, "from": state_of(session).value, "to": to.value})
    if to == State.PAUSED:
        session.paused_at = at
        return
    # Resumed, or ended: an ended attempt's clock stops with it.
    session.paused_at = None
    if to in CLOSED:
        session.status = SessionStatus(to.value)
