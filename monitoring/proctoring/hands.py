"""Raise hand: a student asks the exam's proctors for help, and a proctor answers.

Each hand is recorded on the session's timeline as a technical event (`hand_raised`,
`hand_answered`, declared in scoring.catalogue), so it never raises risk. A session has at most
one open hand at a time: a student cannot flood the proctors, and raising again after an answer
is fine. Each service returns the pushes its change implies and sends none (monitoring.pushes).
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from accounts.services import audit_record
from exampulse.errors import Conflict
from exams.exceptions import SessionNotActive
from exams.models import ExamSession
from monitoring import pushes as live_pushes
from monitoring import signals
from monitoring.models import Event, RaisedHand
from monitoring.pushes import Push

MAX_HAND_MESSAGE_LENGTH = 500


class HandAlreadyRaised(Conflict):
    code = "hand_already_raised"
    default_message = "Your hand is already raised; a proctor will answer it."


class HandAlreadyAnswered(Conflict):
    code = "already_answered"
    default_message = "This raised hand has already been answered."


def _record(session: ExamSession, event_type: str, data: dict, at: datetime) -> Event:
    return Event.objects.create(
        session=session,
        event_type=event_type,
        event_data=data,
        timestamp=at,
        severity="low",
        is_technical=True,
        risk_score_after=session.risk_score,
    )


@transaction.atomic
def hand_raise(*, session: ExamSession, message: str, at: datetime | None = None) -> tuple[RaisedHand, list[Push]]:
    """Open a raised hand on an open session (one open hand at a time); returns it and the proctors' push."""
    at = at or timezone.now()
    # The session row lock serialises two raises from two tabs, so the one-open-hand rule holds.
    session = ExamSession.objects.select_for_update(of=("self",)).select_related("user").get(pk=session.pk)
    if not session.is_open:
        raise SessionNotActive("This exam session is no longer in progress.")
    open_hand = RaisedHand.objects.filter(session=session, answered_at__isnull=True).first()
    if open_hand is not None:
        raise HandAlreadyRaised(details={"hand_id": open_hand.pk})
    hand = RaisedHand.objects.create(session=session, message=message[:MAX_HAND_MESSAGE_LENGTH])
    _record(session, "hand_raised", {"message": hand.message, "hand_id": hand.pk}, at)
    signals.hand_raised.send(sender=RaisedHand, hand=hand, session=session)
    return hand, [live_pushes.hand_raised(hand, session)]


@transaction.atomic
def hand_answer(*, hand: RaisedHand, by, message: str, at: datetime | None = None) -> tuple[RaisedHand, list[Push]]:
    """A proctor answers an open hand once (a second answer is refused); returns it and the pushes."""
    at = at or timezone.now()
    hand = RaisedHand.objects.select_for_update(of=("self",)).select_related("session", "session__user").get(pk=hand.pk)
    if hand.answered_at is not None:
        raise HandAlreadyAnswered(details={"hand_id": hand.pk})
    hand.answer = message
    hand.answered_at = at
    hand.answered_by = by
    hand.save(update_fields=["answer", "answered_at", "answered_by"])
    session = hand.session
    _record(session, "hand_answered", {"message": message, "hand_id": hand.pk, "by": by.pk}, at)
    audit_record(actor=by, action="hand_answer", target=session, details={"hand_id": hand.pk, "message": message})
    return hand, live_pushes.hand_answered(hand, session, by=by)
