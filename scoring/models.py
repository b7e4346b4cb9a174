"""A student's behavioural baseline: the spec's `baselines` table, and the samples it is made of."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

# Samples needed before a baseline is trusted for scoring, unless a calibration sitting made it
# (one sitting is enough: scoring.services.baseline_ready).
BASELINE_READY_SAMPLES = 3


class Baseline(models.Model):
    """The student's baseline as scoring reads it: derived from their active BaselineSample rows.

    `features` caches what the samples say: {"samples": [newest sample values...], "detector":
    {fitted median and scale per feature}, "provenance": {counts by source, calibration session
    ids, first and last sample time}, "key_means": {...}, "reset_at"}. The samples are the record.
    """

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="baseline")
    features = models.JSONField(default=dict, blank=True)
    sample_count = models.PositiveIntegerField(default=0)
    typing_speed_wpm = models.FloatField(null=True, blank=True)
    mouse_speed_pxs = models.FloatField(null=True, blank=True)
    avg_question_time_sec = models.FloatField(null=True, blank=True)
    tab_switch_rate = models.FloatField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "baselines"

    def __str__(self) -> str:
        return f"Baseline of user {self.user_id} ({self.sample_count} samples)"


class SampleSource(models.TextChoices):
    CALIBRATION = "calibration", "Calibration sitting (measured by the server)"
    SELF_REPORTED = "self_reported", "Self-reported (POST /api/baselines)"
    LEGACY = "legacy", "Recorded before provenance was kept"


class BaselineSample(models.Model):
    """One baseline sample with its provenance: where it came from, when, and (calibration) which sitting.

    Never edited. A baseline reset marks the student's samples discarded (kept for the record, out of
    the baseline); erasing a student deletes them with the account's other rows (the foreign key).
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="baseline_samples")
    source = models.CharField(max_length=16, choices=SampleSource.choices)
    # The calibration session (an exams.ExamSession id: scoring never imports exams) for calibration samples.
    calibration_session_id = models.PositiveBigIntegerField(null=True, blank=True, db_index=True)
    # The door it came through ("POST /api/baselines", "calibration exam 7", "manage.py seed_demo_activity").
    via = models.CharField(max_length=100, blank=True, default="")
    recorded_at = models.DateTimeField(default=timezone.now)
    discarded_at = models.DateTimeField(null=True, blank=True)
    typing_speed_wpm = models.FloatField(null=True, blank=True)
    mouse_speed_pxs = models.FloatField(null=True, blank=True)
    avg_question_time_sec = models.FloatField(null=True, blank=True)
    tab_switch_rate = models.FloatField(null=True, blank=True)
    key_hold_ms = models.FloatField(null=True, blank=True)
    key_latency_ms = models.FloatField(null=True, blank=True)

    class Meta:
        db_table = "baseline_samples"
        ordering = ["recorded_at", "id"]
        indexes = [models.Index(fields=["user", "recorded_at"], name="baseline_samples_by_user")]

    def __str__(self) -> str:
        return f"{self.get_source_display()} sample of user {self.user_id} at {self.recorded_at:%Y-%m-%d %H:%M}"
