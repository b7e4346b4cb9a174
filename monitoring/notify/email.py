"""Alert email: the staff of the exam's course hear of a high-risk alert, through Django's email backend.

One email per session and risk level (AlertEmail's unique constraint): a session whose risk rises
to medium and then high sends two, and an anomaly alert at a level already emailed sends none. An
exam with no course emails ALERT_EMAIL_FALLBACK (empty by default: nobody). Stored in the alert's
transaction, sent by the worker with the webhooks' retry schedule. Subject and body name the risk the
alert was raised at and the student's risk when the email is sent, and link to the session's review
page on PUBLIC_URL.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from exams.models import CourseStaff, ExamSession
from monitoring.models import Alert, AlertEmail, DeliveryStatus
from monitoring.notify import outbox

MAX_ERROR_LENGTH = 1000


def recipients_for(session: ExamSession) -> list[str]:
    """The active staff of the exam's course; for an exam with no course, ALERT_EMAIL_FALLBACK."""
    course_id = session.exam.course_id
    if course_id is None:
        return list(settings.ALERT_EMAIL_FALLBACK)
    emails = CourseStaff.objects.filter(course_id=course_id, user__is_active=True).values_list("user__email", flat=True)
    return sorted({email for email in emails if email})


def risk_text(level: str, score: float) -> str:
    """A risk as the live dashboard's badges name it: "Medium · 0.64"."""
    return f"{level.capitalize()} · {score:.2f}"


def absolute_url(path: str) -> str:
    """A link for a message read outside the site: PUBLIC_URL (where people reach ExamPulse) + path."""
    return settings.PUBLIC_URL.rstrip("/") + path


def alert_email_compose(*, alert: Alert, session: ExamSession) -> tuple[str, str]:
    """The subject and body of the email about `alert`, from one set of values so they cannot disagree:
    the risk the alert was raised at, the student's risk now (`session` as it is), and links to the
    session's review page and the exam's live dashboard."""
    exam = session.exam
    student = session.user
    raised = risk_text(alert.risk_level, alert.risk_score)
    now = risk_text(session.risk_level, session.risk_score)
    levels = f": alert raised at {raised}, now {now}"
    # A long name or exam title is what gets cut, never the levels (the subject holds 200 characters).
    subject = f"[ExamPulse] {student.name} in {exam.name}"[: 200 - len(levels)] + levels
    raised_at = f" ({alert.created_at:%Y-%m-%d %H:%M} UTC)" if alert.created_at else ""
    body = "\n".join(
        [
            f"An alert was raised for {student.name} in {exam.name} (exam {exam.pk}).",
            "",
            f"Raised at: {raised}{raised_at}",
            f"Now: {now}",
            f"Alert: {alert.alert_type.replace('_', ' ')}",
            f"Why: {alert.message}",
            f"Student: {student.name} <{student.email}> (session {session.pk})",
            "",
            f"Review the session: {absolute_url(reverse('admin:exams_examsession_change', args=[session.pk]))}",
            f"Live dashboard: {absolute_url(reverse('monitoring:exam-live', args=[exam.pk]))}",
        ]
    )
    return subject, body


def alert_email_store(*, alert: Alert, session: ExamSession) -> AlertEmail | None:
    """Store the email about this alert, unless its level was already emailed or nobody is to hear."""
    recipients = recipients_for(session)
    if not recipients:
        return None
    # The caller holds the session's row lock (ingestion), so this check and the insert do not race.
    if AlertEmail.objects.filter(session=session, risk_level=alert.risk_level).exists():
        return None
    subject, body = alert_email_compose(alert=alert, session=session)
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
    email = AlertEmail.objects.select_related("alert", "session__exam", "session__user").filter(pk=email_pk).first()
    if email is None or not outbox.is_due(email, now=now):
        return None
    if not outbox.claim(AlertEmail, email, now=now, lease_seconds=120):
        return None
    if email.alert is not None:
        # "Now" is when it is sent (a retry may go out an hour later); the row keeps what was sent.
        email.subject, email.body = alert_email_compose(alert=email.alert, session=email.session)
    error = ""
    try:
        send_mail(email.subject, email.body, None, email.recipients, fail_silently=False)
    except Exception as exc:  # the relay refused or was unreachable: one failed attempt
        error = f"{type(exc).__name__}: {exc}"
    attempts = email.attempts + 1
    fields = {
        "attempts": attempts,
        "last_error": error[:MAX_ERROR_LENGTH],
        "subject": email.subject,
        "body": email.body,
    }
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
