"""Listens to exams' signals and tells the live side; the only back-channel from exams.

The signals are sent on commit, so every push here describes a stored state.
"""

from __future__ import annotations

from django.dispatch import receiver

from exams.signals import session_submitted, session_terminated
from monitoring.live import broadcast
from monitoring.live.consumers import CLOSE_TERMINATED


@receiver(session_submitted, dispatch_uid="monitoring.session_submitted")
def on_session_submitted(sender, session, **kwargs) -> None:
    broadcast.group_send(
        broadcast.proctors_group(session.exam_id),
        broadcast.push_message(
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


@receiver(session_terminated, dispatch_uid="monitoring.session_terminated")
def on_session_terminated(sender, session, by=None, reason: str = "", **kwargs) -> None:
    payload = {"session_id": session.pk, "exam_id": session.exam_id, "reason": reason}
    broadcast.group_send(
        broadcast.student_group(session.pk),
        broadcast.close_message("session_terminated", code=CLOSE_TERMINATED, **payload),
    )
    broadcast.group_send(
        broadcast.proctors_group(session.exam_id),
        broadcast.push_message(
            "session_terminated", user_id=session.user_id, by=getattr(by, "pk", None), status=session.status, **payload
        ),
    )
