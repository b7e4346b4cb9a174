"""Verdicts and second reviews: the review that ends in a verdict someone can stand behind.

Rules (docs/design.md, part two, "Review that ends in a grade and a verdict"):
- A verdict is `review_status` with a note; `suspicious` and `violation` also need a `reason_code`
  from the taxonomy (exams.reasons). `clean` and `pending` carry no reason code.
- A `violation` needs a second look: `second_review` becomes `required` and, on commit,
  `second_review_required(session, by)` is sent. While it waits, the verdict cannot be changed by
  another plain verdict; a different proctor confirms or overturns it (the verdict's author gets 403).
  A confirmed violation is final. An overturned one stands as whatever the second proctor set.
- Every verdict and second review is a SessionReview row (the history) and an audit entry.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from accounts.services import audit_record
from exampulse.errors import DomainError, Forbidden
from exams import reasons
from exams.exceptions import (
    InvalidReason,
    ReasonRequired,
    ReviewNoteRequired,
    SameReviewer,
    SecondReviewNotRequired,
    VerdictAwaitingSecondReview,
    VerdictConfirmed,
)
from exams.models import ExamSession, ReviewStatus, SecondReview, SessionReview
from exams.signals import second_review_required

# A verdict against the student must say why (docs/design.md: "set by a proctor with a note") and name a reason.
NOTE_REQUIRED_FOR = frozenset({ReviewStatus.SUSPICIOUS, ReviewStatus.VIOLATION})
REASON_REQUIRED_FOR = NOTE_REQUIRED_FOR
DECISIONS = ("confirm", "overturn")
# What a second reviewer may overturn a violation to.
OVERTURN_TO = (ReviewStatus.CLEAN, ReviewStatus.SUSPICIOUS)


def reason_check(code: Any, *, required: bool, field: str = "reason_code") -> str:
    """The reason code as stored: a taxonomy code, or '' when none was given and none is required.

    Raises ReasonRequired (missing) or InvalidReason (not in the taxonomy); both are 400s.
    """
    if code is None or code == "":
        if required:
            raise ReasonRequired(details={field: ["This field is required."]})
        return ""
    if not reasons.is_known(code):
        shown = code[: reasons.MAX_CODE_LENGTH] if isinstance(code, str) else type(code).__name__
        raise InvalidReason(
            f"Unknown reason_code {shown!r}: choose one from GET /api/incident-reasons.",
            details={field: ["Not a reason code of the taxonomy."]},
        )
    return code


def review_validate(*, review_status: str, note: str, reason_code: Any = "") -> str:
    """The one rule for a verdict (REST, admin form and admin action): a known status; for suspicious and
    violation a non-blank note and a reason code. Returns the reason code to store ('' for clean/pending)."""
    if review_status not in ReviewStatus.values:
        raise DomainError(
            f"review_status must be one of {', '.join(ReviewStatus.values)}.",
            details={"review_status": ["invalid choice"]},
        )
    if review_status in NOTE_REQUIRED_FOR and not (note or "").strip():
        raise ReviewNoteRequired(details={"note": ["required for suspicious and violation"]})
    code = reason_check(reason_code, required=review_status in REASON_REQUIRED_FOR)
    # A clean (or reopened) session has no incident: a code sent with it is checked, not kept.
    return code if review_status in REASON_REQUIRED_FOR else ""


def _lock(session: ExamSession) -> ExamSession:
    return ExamSession.objects.select_for_update().select_related("exam", "user").get(pk=session.pk)


def _require_proctor(by: User, action: str) -> None:
    if not getattr(by, "is_proctor", False):
        raise Forbidden(f"Only proctors can {action}.")


def session_review(
    *,
    session: ExamSession,
    by: User,
    review_status: str,
    note: str = "",
    reason_code: str = "",
    at: datetime | None = None,
) -> ExamSession:
    """Set the verdict with a note (and a reason for suspicious/violation); a violation then waits for
    a second proctor. Every change is recorded (who, when, from what to what) in the audit and history."""
    at = at or timezone.now()
    _require_proctor(by, "review sessions")
    code = review_validate(review_status=review_status, note=note, reason_code=reason_code)
    with transaction.atomic():
        locked = _lock(session)
        if locked.second_review == SecondReview.REQUIRED:
            raise VerdictAwaitingSecondReview()
        if locked.second_review == SecondReview.CONFIRMED:
            raise VerdictConfirmed()
        previous = locked.review_status
        locked.review_status = review_status
        locked.review_note = note
        locked.review_reason_code = code
        locked.reviewed_by = by
        locked.reviewed_at = at
        # A violation needs a second look; any other verdict needs none (an overturned one starts afresh).
        locked.second_review = SecondReview.REQUIRED if review_status == ReviewStatus.VIOLATION else SecondReview.NONE
        locked.save(
            update_fields=[
                "review_status",
                "review_note",
                "review_reason_code",
                "reviewed_by",
                "reviewed_at",
                "second_review",
            ]
        )
        SessionReview.objects.create(
            session=locked,
            kind=SessionReview.Kind.VERDICT,
            by=by,
            review_status=review_status,
            reason_code=code,
            note=note,
            details={"from": previous},
        )
        details: dict[str, Any] = {"from": previous, "to": review_status, "note": note}
        if code:
            details["reason_code"] = code
        audit_record(actor=by, action="session_review", target=locked, details=details)
        if locked.second_review == SecondReview.REQUIRED:
            # In the transaction: the delivery row commits with the verdict (exams.signals).
            second_review_required.send(sender=ExamSession, session=locked, by=by)
    return locked


def session_second_review(
    *,
    session: ExamSession,
    by: User,
    decision: str,
    review_status: str | None = None,
    reason_code: str = "",
    note: str = "",
    at: datetime | None = None,
) -> ExamSession:
    """A different proctor confirms a violation or overturns it (to clean or suspicious, with a note).

    409 unless the session waits for a second review; 403 for the verdict's own author. Both verdicts
    and both notes stay in the history (SessionReview rows); audited.
    """
    at = at or timezone.now()
    _require_proctor(by, "review sessions")
    if decision not in DECISIONS:
        raise DomainError("decision must be confirm or overturn.", details={"decision": ["invalid choice"]})
    if decision == "confirm":
        if review_status not in (None, "", ReviewStatus.VIOLATION):
            raise DomainError(
                "Confirming keeps the violation; to change the verdict, overturn it.",
                details={"review_status": ["must be violation or absent when confirming"]},
            )
        code = reason_check(reason_code, required=False)
    else:
        if review_status not in OVERTURN_TO:
            raise DomainError(
                "Overturning needs the new review_status: clean or suspicious.",
                details={"review_status": ["clean or suspicious, required when overturning"]},
            )
        if not (note or "").strip():
            raise ReviewNoteRequired("Say why the violation is overturned.", details={"note": ["required"]})
        code = review_validate(review_status=review_status, note=note, reason_code=reason_code)
    with transaction.atomic():
        locked = _lock(session)
        if locked.second_review != SecondReview.REQUIRED:
            raise SecondReviewNotRequired(details={"second_review": locked.second_review or None})
        if locked.reviewed_by_id == by.pk:
            raise SameReviewer()
        first = {
            "review_status": locked.review_status,
            "reason_code": locked.review_reason_code,
            "by": locked.reviewed_by_id,
        }
        fields = ["second_review"]
        if decision == "confirm":
            locked.second_review = SecondReview.CONFIRMED
        else:
            locked.second_review = SecondReview.OVERTURNED
            locked.review_status = review_status
            locked.review_note = note
            locked.review_reason_code = code
            locked.reviewed_by = by
            locked.reviewed_at = at
            fields += ["review_status", "review_note", "review_reason_code", "reviewed_by", "reviewed_at"]
        locked.save(update_fields=fields)
        SessionReview.objects.create(
            session=locked,
            kind=SessionReview.Kind.SECOND_REVIEW,
            by=by,
            review_status=locked.review_status,
            reason_code=locked.review_reason_code if decision == "overturn" else code,
            decision=decision,
            note=note,
            details={"first_verdict": first},
        )
        audit_record(
            actor=by,
            action="session_second_review",
            target=locked,
            details={
                "decision": decision,
                "from": first["review_status"],
                "to": locked.review_status,
                "reason_code": locked.review_reason_code if decision == "overturn" else code,
                "note": note,
            },
        )
    return locked


def session_review_history(*, session: ExamSession) -> list[SessionReview]:
    """The session's review steps, oldest first, with who took each (for the detail and the admin page)."""
    return list(session.reviews.select_related("by").order_by("at", "id"))
