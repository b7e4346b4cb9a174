"""A running session's clock: a proctor's extensions and pauses, and time given back for dropped connections.

Every change of a session's clock moves `deadline_at` on the locked row, so each server process
reads the same deadline; the totals (`extended_seconds`, `paused_seconds`,
`time_compensated_seconds`) say why it moved. Pausing and resuming are moves of exams.statuses.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from accounts.services import audit_record
from exampulse.platform.errors import DomainError, Forbidden
from exams.models import Exam, ExamSession, SessionStatus
from exams.reviews import reason_check
from exams.sessions import expire_locked, locked_open, locked_row, proctor_reason
from exams.statuses import Move, State, check_move, session_move

EXTEND_MINUTES_MAX = 600


# --- a proctor's time control while the exam runs ----------------------------------------------


def _check_minutes(minutes: Any) -> int:
    if isinstance(minutes, bool) or not isinstance(minutes, int) or not 1 <= minutes <= EXTEND_MINUTES_MAX:
        raise DomainError(
            f"minutes must be a whole number from 1 to {EXTEND_MINUTES_MAX}.",
            details={"minutes": [f"A whole number from 1 to {EXTEND_MINUTES_MAX}."]},
        )
    return minutes


def _extend_locked(locked: ExamSession, *, by: User, minutes: int, reason: str, via: str) -> None:
    locked.deadline_at += timedelta(minutes=minutes)
    locked.extended_seconds += minutes * 60
    locked.save(update_fields=["deadline_at", "extended_seconds"])
    audit_record(
        actor=by,
        action="session_extend",
        target=locked,
        details={"minutes": minutes, "reason": reason, "via": via, "deadline_at": locked.deadline_at.isoformat()},
    )


def session_extend(
    *, session: ExamSession, by: User, minutes: int, reason: str, at: datetime | None = None
) -> ExamSession:
    """A proctor gives an open session `minutes` more: the deadline moves, on top of any accommodation; audited."""
    at = at or timezone.now()
    reason = proctor_reason(by=by, reason=reason, action="extend a session")
    minutes = _check_minutes(minutes)
    with transaction.atomic():
        locked = locked_open(session, at=at)
        _extend_locked(locked, by=by, minutes=minutes, reason=reason, via="session")
    return locked


def exam_extend(*, exam: Exam, by: User, minutes: int, reason: str, at: datetime | None = None) -> list[ExamSession]:
    """Give every in-progress session of the exam `minutes` more (overdue ones are closed, not revived)."""
    at = at or timezone.now()
    reason = proctor_reason(by=by, reason=reason, action="extend an exam")
    minutes = _check_minutes(minutes)
    with transaction.atomic():
        open_ids = ExamSession.objects.filter(exam=exam, status=SessionStatus.IN_PROGRESS)
        # Locked in id order, so two exam-wide extensions queue rather than deadlock.
        rows = list(
            ExamSession.objects.select_for_update(of=("self",))
            .select_related("exam", "user")
            .filter(pk__in=open_ids.values("pk"))
            .order_by("pk")
        )
        extended = []
        for locked in rows:
            if expire_locked(locked, at=at):
                continue
            _extend_locked(locked, by=by, minutes=minutes, reason=reason, via="exam")
            extended.append(locked)
    return extended


def session_pause(
    *, session: ExamSession, by: User, reason: str, reason_code: str = "", at: datetime | None = None
) -> ExamSession:
    """A proctor stops an open session's clock: no answers, no events, no expiry until resumed; audited.

    `reason_code` (optional) names the incident from the taxonomy; an unknown one is refused."""
    at = at or timezone.now()
    reason = proctor_reason(by=by, reason=reason, action="pause a session")
    reason_code = reason_check(reason_code, required=False)
    with transaction.atomic():
        locked = locked_open(session, at=at)
        session_move(locked, Move.PAUSE, to=State.PAUSED, at=at)
        locked.save(update_fields=["paused_at"])
        details = {"reason": reason, **({"reason_code": reason_code} if reason_code else {})}
        audit_record(actor=by, action="session_pause", target=locked, details=details)
    return locked


def session_resume(*, session: ExamSession, by: User, at: datetime | None = None) -> tuple[ExamSession, int]:
    """A proctor restarts a paused session's clock: the deadline moves by the whole seconds paused; audited.

    Returns the session and the seconds it was paused this time."""
    at = at or timezone.now()
    if not getattr(by, "is_proctor", False):
        raise Forbidden("Only proctors can resume a session.")
    with transaction.atomic():
        locked = locked_row(session)
        check_move(locked, Move.RESUME)
        paused_for = max(0, int((at - locked.paused_at).total_seconds()))
        locked.deadline_at += timedelta(seconds=paused_for)
        locked.paused_seconds += paused_for
        session_move(locked, Move.RESUME, to=State.RUNNING, at=at)
        locked.save(update_fields=["deadline_at", "paused_seconds", "paused_at"])
        audit_record(
            actor=by,
            action="session_resume",
            target=locked,
            details={"paused_seconds": paused_for, "deadline_at": locked.deadline_at.isoformat()},
        )
    return locked, paused_for


# --- disconnect compensation -------------------------------------------------------------------

# A drop shorter than this is a blip (a page reload, a Wi-Fi hand-over): it earns nothing.
COMPENSATION_THRESHOLD = timedelta(seconds=30)


@dataclass(frozen=True)
class Compensation:
    """What one rejoin after a dropped connection was worth: the time away and the seconds given back."""

    session_id: int
    away_seconds: int
    compensated_seconds: int
    deadline_at: datetime
    time_compensated_seconds: int


def compensation_for(
    *,
    disconnected_at: datetime,
    at: datetime,
    deadline_at: datetime,
    grace_minutes: int,
    already_compensated: int,
    paused: bool = False,
    paused_meanwhile: int = 0,
) -> tuple[int, int]:
    """(away seconds, seconds to give back) for a student whose last socket left at `disconnected_at`
    and who joins again at `at`. Pure: no clock, no database.

    Nothing for a drop under 30 s, for grace 0, for a paused session (the pause already gives the
    time back), or when the student comes back after the deadline (the exam is over for them).
    Time spent paused while away (`paused_meanwhile`) is not counted twice. The running total per
    session never exceeds the grace.
    """
    away = max(0, int((at - disconnected_at).total_seconds()))
    cap = max(0, grace_minutes) * 60
    if away < COMPENSATION_THRESHOLD.total_seconds() or cap == 0 or paused or at > deadline_at:
        return away, 0
    earned = max(0, away - max(0, paused_meanwhile))
    return away, max(0, min(earned, cap - already_compensated))


def sessions_compensate_disconnects(
    *,
    returns: dict[int, tuple[datetime, int]],
    at: datetime | None = None,
    read: Mapping[int, ExamSession] | None = None,
) -> dict[int, Compensation]:
    """Give back time lost to dropped connections for many returning students in one batch.

    `returns` maps session id -> (when its last socket left, its paused_seconds then). The sessions
    are locked together (one SELECT ... FOR UPDATE, in id order) and the ones that earn time are
    written with one bulk UPDATE, so a live extension or pause racing a rejoin is never lost.
    Returns a Compensation for every open session of `returns` (compensated_seconds may be 0).

    `read`: the sessions as the caller has just read them, with their exam (a join batch). A return
    that cannot earn time whatever the row says now (a drop under the threshold, an exam without a
    grace) is answered from them with no lock: most drops on flaky Wi-Fi are seconds long.
    """
    at = at or timezone.now()
    if not returns:
        return {}
    out: dict[int, Compensation] = {}
    returns = dict(returns)
    for session_id, session in (read or {}).items():
        if session_id not in returns:
            continue
        disconnected_at, _paused_before = returns[session_id]
        away = max(0, int((at - disconnected_at).total_seconds()))
        if away < COMPENSATION_THRESHOLD.total_seconds() or session.exam.disconnect_grace_minutes <= 0:
            del returns[session_id]
            out[session_id] = Compensation(session_id, away, 0, session.deadline_at, session.time_compensated_seconds)
    if not returns:
        return out
    with transaction.atomic():
        locked = (
            ExamSession.objects.select_for_update(of=("self",))
            .select_related("exam")
            .only(
                "id",
                "status",
                "deadline_at",
                "time_compensated_seconds",
                "paused_at",
                "paused_seconds",
                "exam__disconnect_grace_minutes",
            )
            .filter(pk__in=sorted(returns))
            .order_by("pk")
        )
        changed = []
        for session in locked:
            if not session.is_open:
                continue
            disconnected_at, paused_before = returns[session.pk]
            away, given = compensation_for(
                disconnected_at=disconnected_at,
                at=at,
                deadline_at=session.deadline_at,
                grace_minutes=session.exam.disconnect_grace_minutes,
                already_compensated=session.time_compensated_seconds,
                paused=session.paused_at is not None,
                paused_meanwhile=session.paused_seconds - paused_before,
            )
            if given:
                session.deadline_at += timedelta(seconds=given)
                session.time_compensated_seconds += given
                changed.append(session)
            out[session.pk] = Compensation(
                session.pk, away, given, session.deadline_at, session.time_compensated_seconds
            )
        if changed:
            ExamSession.objects.bulk_update(changed, ["deadline_at", "time_compensated_seconds"])
    return out
