"""Baseline reads for the API: a user's baseline with its lifecycle status."""

from __future__ import annotations

from typing import Any

from accounts.exceptions import UserNotFound
from accounts.models import User
from accounts.scoping import user_scope
from scoring.models import BASELINE_READY_SAMPLES
from scoring.services import baseline_get, baseline_status


def user_get(*, user_id: int, by: Any) -> User:
    """The user with this id if `by` may act on them (accounts.scoping), or UserNotFound (never 403)."""
    user = User.objects.filter(user_scope(by), pk=user_id).first()
    if user is None:
        raise UserNotFound()
    return user


def _mean(samples: list[dict[str, Any]], field: str) -> float | None:
    values = [s[field] for s in samples if isinstance(s.get(field), int | float)]
    return sum(values) / len(values) if values else None


def baseline_summary(*, user: User) -> dict[str, Any]:
    """The user's baseline as the API shows it; a user with none gets status "missing"."""
    baseline = baseline_get(user=user)
    samples = baseline.features.get("samples", []) if baseline else []
    return {
        "user_id": user.pk,
        "status": baseline_status(baseline),
        "sample_count": baseline.sample_count if baseline else 0,
        "ready_after": BASELINE_READY_SAMPLES,
        "typing_speed_wpm": baseline.typing_speed_wpm if baseline else None,
        "mouse_speed_pxs": baseline.mouse_speed_pxs if baseline else None,
        "avg_question_time_sec": baseline.avg_question_time_sec if baseline else None,
        "tab_switch_rate": baseline.tab_switch_rate if baseline else None,
        "key_hold_ms": _mean(samples, "key_hold_ms"),
        "key_latency_ms": _mean(samples, "key_latency_ms"),
        "reset_at": baseline.features.get("reset_at") if baseline else None,
        "updated_at": baseline.updated_at.isoformat() if baseline else None,
    }
