"""Baseline reads and writes: the only place a Baseline row changes."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from scoring.models import Baseline

# The scalar baseline fields the risk engine compares against, each a running mean.
MEAN_FIELDS = ("typing_speed_wpm", "mouse_speed_pxs", "avg_question_time_sec", "tab_switch_rate")
# Raw samples kept for the anomaly detector; older ones roll off.
MAX_STORED_SAMPLES = 200


def _running_mean(old: float | None, count_before: int, new: float) -> float:
    if old is None or count_before == 0:
        return float(new)
    return old + (float(new) - old) / (count_before + 1)


@transaction.atomic
def baseline_add_sample(*, user: Any, sample: dict[str, Any]) -> Baseline:
    """Fold one calibration sample into the user's baseline (running means + stored samples)."""
    baseline, _ = Baseline.objects.select_for_update().get_or_create(user=user)
    for field in MEAN_FIELDS:
        value = sample.get(field)
        if value is None:
            continue
        # Each field's mean counts only the samples that carried it.
        seen = int(baseline.features.get("field_counts", {}).get(field, 0))
        setattr(baseline, field, _running_mean(getattr(baseline, field), seen, value))
        baseline.features.setdefault("field_counts", {})[field] = seen + 1
    samples = baseline.features.setdefault("samples", [])
    samples.append(sample)
    del samples[:-MAX_STORED_SAMPLES]
    baseline.sample_count += 1
    baseline.save()
    return baseline


def baseline_reset(*, user: Any) -> Baseline | None:
    """Clear a baseline so it is collected again from scratch (a proctor's decision)."""
    baseline = Baseline.objects.filter(user=user).first()
    if baseline is None:
        return None
    baseline.features = {}
    baseline.sample_count = 0
    for field in MEAN_FIELDS:
        setattr(baseline, field, None)
    baseline.save()
    return baseline
