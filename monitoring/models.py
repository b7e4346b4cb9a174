"""Behavioural events and alerts: the spec's `events` and `alerts` tables."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


class Severity(models.TextChoices):
    LOW = "low", "Low"
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High"


class Event(models.Model):
    session = models.ForeignKey("exams.ExamSession", on_delete=models.CASCADE, related_name="events")
    event_type = models.CharField(max_length=40, db_index=True)
    event_data = models.JSONField(default=dict, blank=True)
    # Server receive time: the order of record. The client's clock is kept apart.
    timestamp = models.DateTimeField(db_index=True)
    client_ts = models.DateTimeField(null=True, blank=True)
    # NULL, not "", for "no id": the unique constraint below must ignore id-less events.
    client_event_id = models.CharField(max_length=64, null=True, blank=True)  # noqa: DJ001
    severity = models.CharField(max_length=6, choices=Severity.choices, default=Severity.LOW)
    # Disconnects, reconnects and missing capabilities: recorded, never scored.
    is_technical = models.BooleanField(default=False)
    # The session's risk right after this event: the review chart's series.
    risk_score_after = models.FloatField(null=True, blank=True)

    class Meta:
        db_table = "events"
        ordering = ["timestamp", "id"]
        constraints = [
            # A retried event is stored once: the idempotency key is unique per session.
            models.UniqueConstraint(
                fields=["session", "client_event_id"],
                condition=Q(client_event_id__isnull=False),
                name="events_client_event_id_unique_per_session",
            ),
        ]
        indexes = [models.Index(fields=["session", "timestamp"])]

    def __str__(self) -> str:
        return f"{self.event_type} in session {self.session_id}"


class Alert(models.Model):
    session = models.ForeignKey("exams.ExamSession", on_delete=models.CASCADE, related_name="alerts")
    alert_type = models.CharField(max_length=40)
    message = models.TextField()
    risk_score = models.FloatField()
    risk_level = models.CharField(max_length=6, choices=Severity.choices, default=Severity.MEDIUM)
    severity = models.CharField(max_length=6, choices=Severity.choices, default=Severity.MEDIUM)
    components = models.JSONField(default=dict, blank=True)
    resolved = models.BooleanField(default=False, db_index=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolution_note = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        db_table = "alerts"
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.alert_type} ({self.severity}) in session {self.session_id}"


class Presence(models.Model):
    """One open socket that has joined an exam. Lives in the database so every server process
    sees every other's connections; rows of a dead process go stale and are ignored."""

    channel_name = models.CharField(max_length=200, unique=True)
    server_id = models.CharField(max_length=64, db_index=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    exam = models.ForeignKey("exams.Exam", on_delete=models.CASCADE, related_name="+")
    session = models.ForeignKey("exams.ExamSession", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    role = models.CharField(max_length=10)
    connected_at = models.DateTimeField()
    last_seen_at = models.DateTimeField(db_index=True)

    class Meta:
        db_table = "presence"
        indexes = [models.Index(fields=["exam", "role", "last_seen_at"])]

    def __str__(self) -> str:
        return f"{self.role} {self.user_id} on exam {self.exam_id}"


class RaisedHand(models.Model):
    """A student asked the proctors for help during the exam; a proctor's answer closes it."""

    session = models.ForeignKey("exams.ExamSession", on_delete=models.CASCADE, related_name="raised_hands")
    message = models.TextField(blank=True, default="")
    raised_at = models.DateTimeField(auto_now_add=True)
    answer = models.TextField(blank=True, default="")
    answered_at = models.DateTimeField(null=True, blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        db_table = "raised_hands"
        ordering = ["-raised_at", "-id"]
        indexes = [models.Index(fields=["session", "answered_at"], name="raised_hands_open")]

    def __str__(self) -> str:
        return f"Hand {self.pk} in session {self.session_id}"


# -- notifications (monitoring.notify): webhooks and alert emails, sent from a stored outbox ----------


class NotifyEvent(models.TextChoices):
    HIGH_RISK_ALERT = "high_risk_alert", "High-risk alert"
    SESSION_FLAGGED = "session_flagged", "Session flagged"
    HAND_RAISED = "hand_raised", "Hand raised"
    SECOND_REVIEW_REQUIRED = "second_review_required", "Second review required"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"  # stored, first attempt not made yet
    FAILED = "failed", "Failed"  # the last attempt failed; the next one is at next_attempt_at
    DELIVERED = "delivered", "Delivered"
    GAVE_UP = "gave_up", "Gave up"  # every attempt of the schedule failed


class Webhook(models.Model):
    """A receiver of notifications. Global and staff-managed: it hears every exam of every course."""

    url = models.URLField(max_length=500)
    # Shared with the receiver, which recomputes the body's HMAC; shown masked in the admin.
    secret = models.CharField(max_length=200)
    events = models.JSONField(default=list, help_text="Subscribed events (NotifyEvent values).")
    active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "webhooks"
        ordering = ["id"]

    def __str__(self) -> str:
        return f"Webhook {self.pk} → {self.url}"


class WebhookDelivery(models.Model):
    """One event for one webhook: the outbox row the worker sends, retries and finally closes."""

    webhook = models.ForeignKey(Webhook, on_delete=models.CASCADE, related_name="deliveries")
    event = models.CharField(max_length=40, choices=NotifyEvent.choices, db_index=True)
    payload = models.JSONField(default=dict)
    delivery_id = models.UUIDField(unique=True)
    status = models.CharField(
        max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING, db_index=True
    )
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True, db_index=True)
    last_status_code = models.PositiveIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "webhook_deliveries"
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "webhook deliveries"

    def __str__(self) -> str:
        return f"{self.event} → webhook {self.webhook_id} ({self.status})"


class WebhookAttempt(models.Model):
    """One POST of a delivery: what the receiver answered, or why there was no answer."""

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="attempt_log")
    at = models.DateTimeField()
    status_code = models.PositiveIntegerField(null=True, blank=True)
    error = models.TextField(blank=True, default="")
    duration_ms = models.PositiveIntegerField(default=0)

    class Meta:
        db_table = "webhook_attempts"
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"Attempt on delivery {self.delivery_id}: {self.status_code or self.error[:40]}"


class AlertEmail(models.Model):
    """An email to a course's staff about an alert: at most one per session and risk level."""

    session = models.ForeignKey("exams.ExamSession", on_delete=models.CASCADE, related_name="+")
    alert = models.ForeignKey(Alert, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    risk_level = models.CharField(max_length=6, choices=Severity.choices)
    recipients = models.JSONField(default=list)
    subject = models.CharField(max_length=200)
    body = models.TextField()
    status = models.CharField(
        max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING, db_index=True
    )
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "alert_emails"
        ordering = ["-created_at", "-id"]
        constraints = [
            # The per-session rate limit: one email per level the session's risk rises to.
            models.UniqueConstraint(fields=["session", "risk_level"], name="alert_email_once_per_level"),
        ]

    def __str__(self) -> str:
        return f"Alert email for session {self.session_id} ({self.risk_level}, {self.status})"
