"""Listens to exams' signals and tells the live side; the only back-channel from exams.

The signals are sent on commit, so every push here describes a stored state. The pushes are built
by monitoring.pushes and leave by its one sender.
"""

from __future__ import annotations

from django.dispatch import receiver

from exams.signals import access_revoked, session_submitted, session_terminated
from monitoring import pushes


@receiver(session_submitted, dispatch_uid="monitoring.session_submitted")
def on_session_submitted(sender, session, **kwargs) -> None:
    pushes.send_after_commit([pushes.student_submitted(session)])


@receiver(session_terminated, dispatch_uid="monitoring.session_terminated")
def on_session_terminated(sender, session, by=None, reason: str = "", **kwargs) -> None:
    pushes.send_after_commit(pushes.session_terminated(session, by=by, reason=reason))


@receiver(access_revoked, dispatch_uid="monitoring.access_revoked")
def on_access_revoked(sender, user_id: int, exam_ids: list[int], **kwargs) -> None:
    pushes.send_after_commit([pushes.access_revoked(user_id=user_id, exam_ids=exam_ids)])
