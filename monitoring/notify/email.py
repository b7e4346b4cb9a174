"""Alert email: the staff of the exam's course hear of a high-risk alert, through Django's email backend.

One email per session and risk level (AlertEmail's unique constraint): a session whose risk rises
to medium and then high sends two, and an anomaly alert at a level already emailed sends none. An
exam with no course emails ALERT_EMAIL_FALLBACK (empty by default: nobody). Stored in the alert's
transaction, sent by the worker with the webhooks' retry schedule.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from exams.models import CourseStaff, ExamSession
from monitoring.models import Alert
from monitoring.notify import outbox
from monitoring.notify.models import AlertEmail, DeliveryStatus

MAX_ERROR_LENGTH = 1000


def recipients_for(session: ExamSession) -> list[str]:
    """The active staff of the exam's course; for an exam with no course, ALERT_EMAIL_FALLBACK."""
    course_id = session.exam.course_id
    if course_id is None:
        return list(settings.ALERT_EMAIL_FALLBACK)
    emails = CourseStaff.objects.filter(course_id=course_id, user__is_active=True).values_list("user__email", flat=True)
    return sorted({email for email in emails if email})


def alert_email_store(*, alert: Alert, session: ExamSession) -> AlertEmail | None:
    """Store the email about this alert, unless its level was already emailed or nobody is to hear."""
    recipients = recipients_for(session)
    if not recipients:
        return None
    # The caller holds the session's row lock (ingestion), so this check and the insert do not race.
    if AlertEmail.objects.filter(session=session, risk_level=alert.risk_level).exists():
        return None
    exam = session.exam
    student = session.user
    subject = f"[ExamPulse] {alert.risk_level} risk: {student.name} in {exam.name}"[:200]
    body = "\n".join(
        [
            f"A {alert.severity} alert was raised in {exam.name} (exam {exam.pk}).",
            f"Student: {student.name} <{student.email}> (session {session.pk})",
            f"Risk: {alert.risk_score:.2f} ({alert.risk_level})",
            f"Why: {alert.message}",
            "",
            "Review it in the ExamPulse admin (Exam sessions) or on the live dashboard.",
        ]
    )
    return AlertEmail.objects.create(
        session=session,
        alert=alert,
        risk_level=alert.risk_level,
        recipients=recipients,
        subject=subject,
        body=body,
        next_attempt_at=timezone.now(),
    )


def alert_email_attempt(*, email_pk: int) -> int | None:
    """Send the email if it is due; returns the seconds until the next attempt, or None."""
    now = timezone.now()
    email = AlertEmail.objects.filter(pk=email_pk).first()
    if email is None or not outbox.is_due(email, now=now):
        return None
    if not outbox.claim(AlertEmail, email, now=now, lease_seconds=120):
        return None
    error = ""
    try:
        send_mail(email.subject, email.body, None, email.recipients, fail_silently=False)
    except Exception as exc:  # the relay refused or was unreachable: one failed attempt
        error = f"{type(exc).__name__}: {exc}"
    attempts = email.attempts + 1
    fields = {"attempts": attempts, "last_error": error[:MAX_ERROR_LENGTH]}
    delay = None
    if not error:
        fields |= {"status": DeliveryStatus.DELIVERED, "sent_at": timezone.now(), "next_attempt_at": None}
    else:
        delay = outbox.retry_delay(attempts=attempts)
        if delay is None:
            fields |= {"status": DeliveryStatus.GAVE_UP, "next_attempt_at": None}
        else:
            fields |= {"status": DeliveryStatus.FAILED, "next_attempt_at": timezone.now() + timedelta(seconds=delay)}
    with transaction.atomic():
        AlertEmail.objects.filter(pk=email.pk).update(**fields)
    return delay
