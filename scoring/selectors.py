"""Baseline reads for the API: a user's baseline with its lifecycle status and its samples' provenance."""

from __future__ import annotations

from typing import Any

from accounts.exceptions import UserNotFound
from accounts.models import User
from accounts.scoping import examinee_scope
from scoring.baselines import baseline_get, baseline_status, baseline_summary_of
from scoring.models import BASELINE_READY_SAMPLES, BaselineSample

# The newest samples listed with their provenance (the counts cover all of them).
SAMPLES_LISTED = 50


def user_get(*, user_id: int, by: Any) -> User:
    """The user with this id if `by` may read their baseline, or UserNotFound (never 403).

    Proctors: students who sat (or are sitting) an exam the proctor sees (accounts.scoping.examinee_scope),
    not everyone on a roster they can add anyone to; superusers: anyone.
    """
    user = User.objects.filter(examinee_scope(by), pk=user_id).first()
    if user is None:
        raise UserNotFound()
    return user


def _sample(row: BaselineSample) -> dict[str, Any]:
    return {
        "id": row.pk,
        "source": row.source,
        "calibration_session_id": row.calibration_session_id,
        "via": row.via,
        "recorded_at": row.recorded_at.isoformat(),
        "discarded": row.discarded_at is not None,
        "values": {
            field: getattr(row, field)
            for field in (
                "typing_speed_wpm",
                "mouse_speed_pxs",
                "avg_question_time_sec",
                "tab_switch_rate",
                "key_hold_ms",
                "key_latency_ms",
            )
            if getattr(row, field) is not None
        },
    }


def baseline_summary(*, user: User) -> dict[str, Any]:
    """The user's baseline as the API shows it; a user with none gets status "missing"."""
    baseline = baseline_get(user=user)
    summary = baseline_summary_of(baseline)
    means = summary["means"]
    newest = BaselineSample.objects.filter(user_id=user.pk).order_by("-recorded_at", "-id")[:SAMPLES_LISTED]
    return {
        "user_id": user.pk,
        "status": baseline_status(baseline),
        "sample_count": summary["sample_count"],
        "ready_after": BASELINE_READY_SAMPLES,
        "typing_speed_wpm": means.get("typing_speed_wpm"),
        "mouse_speed_pxs": means.get("mouse_speed_pxs"),
        "avg_question_time_sec": means.get("avg_question_time_sec"),
        "tab_switch_rate": means.get("tab_switch_rate"),
        "key_hold_ms": means.get("key_hold_ms"),
        "key_latency_ms": means.get("key_latency_ms"),
        "provenance": summary["provenance"],
        "samples": [_sample(row) for row in newest],
        "reset_at": baseline.features.get("reset_at") if baseline else None,
        "updated_at": baseline.updated_at.isoformat() if baseline else None,
    }
