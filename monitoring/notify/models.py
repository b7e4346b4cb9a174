"""The notifications' outbox: webhooks and their deliveries and attempts, and alert emails.

Part of the `monitoring` app (app label and table names unchanged); monitoring/models.py imports
this module so Django registers these models. Nothing here imports a room or monitoring.models.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from exams.models import RiskLevel


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
    alert = models.ForeignKey("monitoring.Alert", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    risk_level = models.CharField(max_length=6, choices=RiskLevel.choices)  # the session's level
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
