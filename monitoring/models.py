"""Behavioural events and alerts: the spec's `events` and `alerts` tables; presence and raised hands.

The notifications' models live with them in monitoring/notify/models.py (same app, same tables);
they are imported here only so that Django, which reads each app's `models` module, registers them.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from monitoring.notify.models import (  # noqa: F401 - registered with the app through this module
    AlertEmail,
    DeliveryStatus,
    NotifyEvent,
    Webhook,
    WebhookAttempt,
    WebhookDelivery,
)


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
