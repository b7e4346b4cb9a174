"""ExamPulse's side of LTI: what ties the platform's objects (django-lti's lti_tool models) to ours.

- LoginState: one OIDC login's state and nonce, single-use (lti.protocol).
- CourseLink: a platform context (course) is one ExamPulse Course.
- ExamLink: a resource link (the exam's entry in the LMS) is bound to one Exam, with its line item.
- ScoreDelivery / ScoreAttempt: the grade outbox (AGS), sent and retried by the task worker.

People: django-lti's LtiUser (registration, sub) carries `auth_user`, the ExamPulse account.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class LoginState(models.Model):
    """An OIDC login we started: the id_token coming back must carry this state and nonce, once."""

    state = models.CharField(max_length=100, unique=True)
    nonce = models.CharField(max_length=100)
    registration = models.ForeignKey("lti_tool.LtiRegistration", on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "lti_login_states"

    def __str__(self) -> str:
        return self.state


class CourseLink(models.Model):
    """The ExamPulse course of a platform context (one per deployment and context id)."""

    context = models.OneToOneField("lti_tool.LtiContext", on_delete=models.CASCADE, related_name="exampulse_link")
    course = models.OneToOneField("exams.Course", on_delete=models.CASCADE, related_name="lti_link")
    created_at = models.DateTimeField(auto_now_add=True)
    # Last NRPS roster sync (None: never synced).
    synced_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "lti_course_links"

    def __str__(self) -> str:
        return f"{self.context} → course {self.course_id}"


class ExamLink(models.Model):
    """A resource link bound to one exam; grades of that exam go to `lineitem_url`."""

    resource_link = models.OneToOneField(
        "lti_tool.LtiResourceLink", on_delete=models.CASCADE, related_name="exampulse_link"
    )
    exam = models.ForeignKey("exams.Exam", on_delete=models.CASCADE, related_name="lti_links")
    bound_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    bound_at = models.DateTimeField(auto_now=True)
    # The launch's AGS line item (or one we created under the context's lineitems URL); "" until known.
    lineitem_url = models.URLField(max_length=500, blank=True, default="")

    class Meta:
        db_table = "lti_exam_links"

    def __str__(self) -> str:
        return f"{self.resource_link} → exam {self.exam_id}"


class ScoreStatus(models.TextChoices):
    PENDING = "pending", "Pending"  # stored, not sent yet
    FAILED = "failed", "Failed"  # the last attempt failed; the next one is at next_attempt_at
    DELIVERED = "delivered", "Delivered"
    GAVE_UP = "gave_up", "Gave up"  # every attempt of the schedule failed
    SUPERSEDED = "superseded", "Superseded"  # a newer score for the same session replaced it unsent


class ScoreDelivery(models.Model):
    """One score for one session, to the link's line item: the outbox row the worker sends and retries."""

    session = models.ForeignKey("exams.ExamSession", on_delete=models.CASCADE, related_name="lti_scores")
    link = models.ForeignKey(ExamLink, on_delete=models.CASCADE, related_name="scores")
    user_sub = models.CharField(max_length=255)
    payload = models.JSONField(default=dict)
    status = models.CharField(max_length=10, choices=ScoreStatus.choices, default=ScoreStatus.PENDING, db_index=True)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True, db_index=True)
    last_status_code = models.PositiveIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "lti_score_deliveries"
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "score deliveries"

    def __str__(self) -> str:
        return f"Score of session {self.session_id} ({self.status})"


class ScoreAttempt(models.Model):
    """One POST of a score: what the platform answered, or why there was no answer."""

    delivery = models.ForeignKey(ScoreDelivery, on_delete=models.CASCADE, related_name="attempt_log")
    at = models.DateTimeField()
    status_code = models.PositiveIntegerField(null=True, blank=True)
    error = models.TextField(blank=True, default="")
    duration_ms = models.PositiveIntegerField(default=0)

    class Meta:
        db_table = "lti_score_attempts"
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"Attempt on score {self.delivery_id}: {self.status_code or self.error[:40]}"
