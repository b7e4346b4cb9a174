"""A student's behavioural baseline: the spec's `baselines` table."""

from __future__ import annotations

from django.conf import settings
from django.db import models

# Samples needed before a baseline is trusted for scoring.
BASELINE_READY_SAMPLES = 3


class Baseline(models.Model):
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="baseline")
    # {"samples": [{...one calibration sample...}, ...]}: the raw material of the anomaly detector.
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
