"""Signals → outbox rows. Connected by monitoring.apps; the only way the rest of the code reaches notify.

Every signal heard here arrives inside the transaction of the change it announces (the alert, the
hand, the flagged session, the violation verdict), so the rows commit or roll back with it: no
crash between the change's commit and the rows can lose a notification. The worker is told only
after the rows are committed.
"""

from __future__ import annotations

from django.dispatch import receiver

from exams.signals import second_review_required, session_flagged
from monitoring import pushes, signals
from monitoring.notify import email, tasks, webhooks
from monitoring.notify.models import NotifyEvent


def session_data(session) -> dict:
    """A session as a webhook's `data` carries it."""
    return {
        "session_id": session.pk,
        "exam_id": session.exam_id,
        "user_id": session.user_id,
        "name": session.user.name,
        "status": session.status,
        "review_status": session.review_status,
        "termination_reason": session.termination_reason or "",
        "risk_score": session.risk_score,
        "risk_level": session.risk_level,
        "submitted_at": session.submitted_at.isoformat() if session.submitted_at else None,
    }


@receiver(signals.alerts_raised, dispatch_uid="notify.alerts_raised")
def on_alerts_raised(sender, raised, **kwargs) -> None:
    datas = [pushes.alert_payload(alert, session=session) for alert, session in raised]
    deliveries = webhooks.deliveries_store_many(event=NotifyEvent.HIGH_RISK_ALERT, datas=datas)
    emails = [email.alert_email_store(alert=alert, session=session) for alert, session in raised]
    tasks.enqueue_after_commit(deliveries=deliveries, emails=emails)


@receiver(signals.hand_raised, dispatch_uid="notify.hand_raised")
def on_hand_raised(sender, hand, session, **kwargs) -> None:
    data = pushes.hand_payload(hand, session=session)
    tasks.enqueue_after_commit(deliveries=webhooks.deliveries_store(event=NotifyEvent.HAND_RAISED, data=data))


@receiver(session_flagged, dispatch_uid="notify.session_flagged")
def on_session_flagged(sender, session, **kwargs) -> None:
    data = session_data(session)
    tasks.enqueue_after_commit(deliveries=webhooks.deliveries_store(event=NotifyEvent.SESSION_FLAGGED, data=data))


@receiver(second_review_required, dispatch_uid="notify.second_review_required")
def on_second_review_required(sender, session, by=None, **kwargs) -> None:
    data = session_data(session) | {"by": getattr(by, "pk", None)}
    deliveries = webhooks.deliveries_store(event=NotifyEvent.SECOND_REVIEW_REQUIRED, data=data)
    tasks.enqueue_after_commit(deliveries=deliveries)
