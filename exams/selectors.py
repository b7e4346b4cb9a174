"""Reads of exams and sessions, scoped to who is asking. Reads of open sessions apply lazy expiry first."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from exams.authoring import exam_is_open
from exams.exceptions import ExamNotFound, ExamNotOpen, SessionAlreadySubmitted, SessionNotFound
from exams.models import Exam, ExamSession, ExamStatus, GradingStatus, SessionStatus
from exams.scoping import exam_scope, own_session_scope, sessions_still_owned
from exams.sessions import GRACE, session_expire_if_due, session_is_overdue, sessions_close_expired

# Larger ids cannot exist and would overflow the database's bigint.
MAX_PK = 2**63 - 1
SESSION_ORDERINGS = {
    "risk": ("-risk_score", "-started_at", "-id"),
    "-risk_score": ("-risk_score", "-started_at", "-id"),
    "risk_score": ("risk_score", "-started_at", "-id"),
    "-started_at": ("-started_at", "-id"),
    "started_at": ("started_at", "id"),
}


def _as_pk(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    try:
        pk = int(value)
    except (TypeError, ValueError):
        return None
    return pk if 0 < pk <= MAX_PK else None


def _is_user(user: Any) -> bool:
    return bool(user is not None and getattr(user, "is_authenticated", False))


def exam_queryset_for(*, user: Any) -> QuerySet[Exam]:
    """Exams the user may open: proctors all; students active exams and exams they have taken."""
    if not _is_user(user):
        return Exam.objects.none()
    in_scope = Exam.objects.filter(exam_scope(user))
    if user.is_proctor:
        return in_scope
    taken = ExamSession.objects.filter(user=user).values("exam_id")
    # A session started before its exam moved to another course stays the student's (scoping.own_session_scope).
    kept = ExamSession.objects.filter(own_session_scope(user)).values("exam_id")
    return Exam.objects.filter((exam_scope(user) & (Q(status=ExamStatus.ACTIVE) | Q(pk__in=taken))) | Q(pk__in=kept))


def exam_list(*, user: Any, status: str | None = None) -> QuerySet[Exam]:
    """Exams to list: proctors all (optionally by status); students the active exams of their scope,
    each with their own attempt (`with_attempt`) so the list can say whether it can be started."""
    if not _is_user(user):
        return Exam.objects.none()
    in_scope = Exam.objects.filter(exam_scope(user))
    if user.is_proctor:
        queryset = in_scope.select_related("created_by", "course")
        return queryset.filter(status=status) if status else queryset
    return with_attempt(in_scope.filter(status=ExamStatus.ACTIVE).select_related("course"), user=user)


def with_attempt(queryset: QuerySet[Exam], *, user: Any) -> QuerySet[Exam]:
    """Each exam with the student's counted attempt (the latest one not voided), in the same query:
    `attempt_id`, `attempt_status`, `attempt_deadline_at`, `attempt_paused_at` (None: no attempt)."""
    latest = ExamSession.objects.filter(exam=OuterRef("pk"), user=user, voided=False).order_by("-started_at", "-id")
    return queryset.annotate(
        attempt_id=Subquery(latest.values("pk")[:1]),
        attempt_status=Subquery(latest.values("status")[:1]),
        attempt_deadline_at=Subquery(latest.values("deadline_at")[:1]),
        attempt_paused_at=Subquery(latest.values("paused_at")[:1]),
    )


@dataclass(frozen=True)
class StartState:
    """What `POST /api/exams/<id>/start` would do for this student now."""

    can_start: bool
    # The code the start would be refused with (`exam_not_open`, `session_already_submitted`), or None.
    refusal: str | None
    # The student's counted attempt, {"session_id", "status"}, or None.
    attempt: dict[str, Any] | None


def exam_start_state(*, exam: Exam, user: Any, at: datetime | None = None) -> StartState:
    """Whether the student can start (or resume) the exam, by the rules `exams.sessions.session_start_or_resume`
    applies: an open attempt is resumed, a finished one refuses, no attempt needs an open exam."""
    if not hasattr(exam, "attempt_id"):
        exam = with_attempt(Exam.objects.filter(pk=exam.pk), user=user).get()
    at = at or timezone.now()
    if exam.attempt_id is None:
        if exam_is_open(exam=exam, at=at):
            return StartState(can_start=True, refusal=None, attempt=None)
        return StartState(can_start=False, refusal=ExamNotOpen.code, attempt=None)
    attempt = ExamSession(
        pk=exam.attempt_id,
        status=exam.attempt_status,
        deadline_at=exam.attempt_deadline_at,
        paused_at=exam.attempt_paused_at,
    )
    # An open attempt past its deadline is closed by the next read of it, the start included: say so
    # now (this read changes nothing; the lifecycle's table does, in exams.sessions).
    overdue = attempt.is_open and session_is_overdue(session=attempt, at=at)
    status = SessionStatus.SUBMITTED.value if overdue else attempt.status
    summary = {"session_id": attempt.pk, "status": status}
    if attempt.is_open and not overdue:
        return StartState(can_start=True, refusal=None, attempt=summary)
    return StartState(can_start=False, refusal=SessionAlreadySubmitted.code, attempt=summary)


def exam_get_for_user(*, exam_id: Any, user: Any) -> Exam:
    """The exam if it exists and the user may see it; ExamNotFound otherwise (never 403: no probing)."""
    pk = _as_pk(exam_id)
    exam = exam_queryset_for(user=user).filter(pk=pk).first() if pk else None
    if exam is None:
        raise ExamNotFound()
    return exam


def session_get_for_user(*, session_id: Any, user: Any, at: datetime | None = None) -> ExamSession:
    """The session (lazily expired if due): students only their own, proctors any; SessionNotFound otherwise."""
    pk = _as_pk(session_id)
    session = None
    if pk and _is_user(user):
        queryset = ExamSession.objects.select_related("exam", "user")
        if user.is_proctor:
            queryset = queryset.filter(exam_scope(user, exam_field="exam"))
        else:
            queryset = queryset.filter(user=user).filter(exam_scope(user, exam_field="exam") | own_session_scope(user))
        session = queryset.filter(pk=pk).first()
    if session is None:
        raise SessionNotFound()
    return session_expire_if_due(session=session, at=at)


def session_open_for(*, exam: Exam, user: Any, at: datetime | None = None) -> ExamSession | None:
    """The user's open session of the exam after lazy expiry, or None."""
    if not _is_user(user):
        return None
    session = ExamSession.objects.filter(exam=exam, user=user, status=SessionStatus.IN_PROGRESS).first()
    if session is None:
        return None
    session = session_expire_if_due(session=session, at=at)
    return session if session.is_open else None


def sessions_open_for(
    *, pairs: Sequence[tuple[Any, Any]], at: datetime | None = None
) -> dict[tuple[int, int], ExamSession]:
    """Open sessions for (user, exam id) pairs, with the exam joined in, after lazy expiry: one query,
    and one more only when a session's course must be checked (exams.scoping.sessions_still_owned).

    Keyed by (user id, exam id); a pair without an open session is absent. Used by socket joins,
    which arrive in batches. Scoped like every read: a student removed from the exam's course no
    longer finds their open session.
    """
    wanted = {(user.pk, pk) for user, exam_id in pairs if _is_user(user) and (pk := _as_pk(exam_id))}
    if not wanted:
        return {}
    rows = (
        ExamSession.objects.select_related("exam")
        # A join reads none of the large JSON (answers, grading, the exam's questions); these rows
        # also become the socket process's ingest snapshots, which must not hold a copy of the
        # questions per student. Expiry re-reads its row in full.
        .defer("answers", "grading", "exam__questions", "exam__description", "exam__instructions")
        .filter(
            status=SessionStatus.IN_PROGRESS,
            user_id__in={user_id for user_id, _ in wanted},
            exam_id__in={exam_id for _, exam_id in wanted},
        )
    )
    rows = [session for session in rows if (session.user_id, session.exam_id) in wanted]
    found = {}
    # Scoped like every read: a student removed from the exam's course no longer finds it.
    for session in sessions_still_owned(rows, {user.pk: user for user, _ in pairs if _is_user(user)}):
        session = session_expire_if_due(session=session, at=at)
        if session.is_open:
            found[(session.user_id, session.exam_id)] = session
    return found


def student_has_open_session(user: Any) -> bool:
    """True while the user has any exam session in progress (a paused one included): their baseline
    stays as their sessions' snapshots have it (scoring.baselines)."""
    if not _is_user(user):
        return False
    # An overdue session (past deadline + grace, closed at its next read) no longer holds the baseline.
    live = Q(paused_at__isnull=False) | Q(deadline_at__gte=timezone.now() - GRACE)
    return ExamSession.objects.filter(live, user_id=user.pk, status=SessionStatus.IN_PROGRESS).exists()


def session_latest_for(*, exam: Exam, user: Any, at: datetime | None = None) -> ExamSession | None:
    """The user's newest session of the exam (open or finished) after lazy expiry, or None."""
    if not _is_user(user):
        return None
    # A voided attempt (reset by a proctor) is not the student's attempt any more.
    session = ExamSession.objects.filter(exam=exam, user=user, voided=False).order_by("-started_at", "-id").first()
    return session_expire_if_due(session=session, at=at) if session else None


def session_list(
    *,
    user: Any,
    exam_id: int | None = None,
    status: str | None = None,
    review_status: str | None = None,
    risk_level: str | None = None,
    user_id: int | None = None,
    ordering: str | None = None,
    voided: bool = False,
    grading_status: str | None = None,
    reason_code: str | None = None,
    second_review: str | None = None,
    at: datetime | None = None,
) -> QuerySet[ExamSession]:
    """Sessions to list, overdue ones closed first: a student's own; for proctors all, filtered and ordered.

    Proctors see the review queue: reset (voided) attempts only when `voided` is True, then only them;
    `grading_status="pending"` is the "needs grading" queue.
    """
    if not _is_user(user):
        return ExamSession.objects.none()
    at = at or timezone.now()
    queryset = ExamSession.objects.select_related("exam", "user")
    if not user.is_proctor:
        queryset = queryset.filter(user=user).filter(exam_scope(user, exam_field="exam") | own_session_scope(user))
    else:
        queryset = queryset.filter(exam_scope(user, exam_field="exam"))
    if user.is_proctor and user_id:
        queryset = queryset.filter(user_id=user_id)
    if exam_id:
        queryset = queryset.filter(exam_id=exam_id)
    # What is read must be current: close the overdue sessions in scope before listing them.
    sessions_close_expired(at=at, queryset=queryset)
    if status:
        queryset = queryset.filter(status=status)
    if review_status:
        queryset = queryset.filter(review_status=review_status)
    if risk_level:
        queryset = queryset.filter(risk_level=risk_level)
    if user.is_proctor and reason_code:
        # The incident reason of the verdict or of the termination.
        queryset = queryset.filter(Q(review_reason_code=reason_code) | Q(termination_reason_code=reason_code))
    if user.is_proctor and second_review:
        queryset = queryset.filter(second_review=second_review)
    if user.is_proctor:
        queryset = queryset.filter(voided=bool(voided))
    if grading_status:
        queryset = queryset.filter(grading_status=grading_status)
        if grading_status == GradingStatus.PENDING:
            # A reset attempt has no result: it never needs grading, even listed with ?voided=true.
            queryset = queryset.filter(voided=False)
    default = "risk" if user.is_proctor else "-started_at"
    return queryset.order_by(*SESSION_ORDERINGS[ordering or default])
