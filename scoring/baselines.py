"""Baseline writes and reads: every BaselineSample row and every change of a Baseline row happen here.

Nobody moves their own yardstick:
- the student's own write (`baseline_sample_submit`, POST /api/baselines) is refused while they have
  an exam session in progress (409 `session_open`) and limited to `BASELINE_SAMPLES_PER_DAY` per
  rolling 24 hours (429 `baseline_daily_limit`);
- every sample keeps its provenance (calibration with its session, self-reported, legacy), its time
  and the door it came through; the Baseline row (means, detector) is derived from the active samples;
- a session is scored against `baseline_snapshot`, taken when it starts, so nothing written later
  (by anyone) changes an exam already running or its rescore;
- a reset is a superuser's decision, audited; it discards the samples (kept for the record).

Whether a student has a session in progress is an exams question, and scoring never imports exams:
exams registers the rule at startup (`baseline_guard_register`). Until something registers, every
self-reported write is refused (fail closed).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Avg, Count, Max, Min
from django.utils import timezone

from accounts.exceptions import SuperuserOnly
from accounts.models import User
from accounts.services import audit_record
from scoring.aggregation import signals_from
from scoring.calibration import calibration_samples
from scoring.exceptions import BaselineDailyLimit, BaselineSessionOpen
from scoring.models import BASELINE_READY_SAMPLES, Baseline, BaselineSample, SampleSource
from scoring.snapshot import detector_params, snapshot_build

# The scalar baseline fields the risk engine compares against: means over the active samples.
MEAN_FIELDS = ("typing_speed_wpm", "mouse_speed_pxs", "avg_question_time_sec", "tab_switch_rate")
# Every field one sample may carry; the keystroke timings feed the anomaly detector only.
SAMPLE_FIELDS = (*MEAN_FIELDS, "key_hold_ms", "key_latency_ms")
# The newest active samples the detector is fitted on (and the Baseline row's cached copy holds).
MAX_STORED_SAMPLES = 200
# Calibration sessions listed in a baseline's provenance (the counts are always exact).
PROVENANCE_SESSIONS_LISTED = 50
SELF_REPORTED_VIA = "POST /api/baselines"


class BaselineStatus:
    MISSING = "missing"
    COLLECTING = "collecting"
    READY = "ready"
    RESET = "reset"


# -- the open-session rule, registered by exams ------------------------------------------------------

OpenSessionRule = Callable[[Any], bool]
_has_open_session: OpenSessionRule | None = None


def baseline_guard_register(rule: OpenSessionRule) -> None:
    """Install `rule(user) -> bool`: True while the user has an exam session in progress."""
    global _has_open_session
    _has_open_session = rule


def _session_open(user: Any) -> bool:
    return True if _has_open_session is None else bool(_has_open_session(user))


# -- samples ------------------------------------------------------------------------------------------


def _clean_sample(sample: dict[str, Any]) -> dict[str, float]:
    """Keep the known fields that hold finite numbers; the rest is noise."""
    clean: dict[str, float] = {}
    for field in SAMPLE_FIELDS:
        value = sample.get(field)
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            continue
        clean[field] = float(value)
    return clean


def _new_sample(*, user: Any, sample: dict[str, Any], source: str, via: str, at: datetime, session_id=None):
    return BaselineSample(
        user_id=user.pk,
        source=source,
        calibration_session_id=session_id,
        via=via[:100],
        recorded_at=at,
        **_clean_sample(sample),
    )


@transaction.atomic
def baseline_add_sample(
    *,
    user: Any,
    sample: dict[str, Any],
    source: str = SampleSource.SELF_REPORTED,
    via: str = "",
    calibration_session_id: int | None = None,
    at: datetime | None = None,
) -> Baseline:
    """Record one sample with its provenance and re-derive the baseline from the active samples.

    No guard: the student's own door is `baseline_sample_submit`; this is for the server's
    measurements, seeding commands and test arrangements.
    """
    row = _new_sample(
        user=user, sample=sample, source=source, via=via, at=at or timezone.now(), session_id=calibration_session_id
    )
    row.save()
    return _baseline_refresh(user=user)


@transaction.atomic
def baseline_sample_submit(
    *, user: Any, sample: dict[str, Any], via: str = SELF_REPORTED_VIA, at: datetime | None = None
) -> Baseline:
    """The student adds a sample to their own baseline: refused during an exam in progress
    (BaselineSessionOpen, 409 `session_open`) and beyond BASELINE_SAMPLES_PER_DAY in 24 hours
    (BaselineDailyLimit, 429); otherwise stored as self-reported with its time and door."""
    at = at or timezone.now()
    # The student's row lock serialises this with their session starts (exams locks it too), so
    # a sample cannot slip in between a start's check and its snapshot.
    User.objects.select_for_update().filter(pk=user.pk).first()
    if _session_open(user):
        raise BaselineSessionOpen()
    limit = settings.EXAMPULSE["BASELINE_SAMPLES_PER_DAY"]
    recent = BaselineSample.objects.filter(
        user_id=user.pk, source=SampleSource.SELF_REPORTED, recorded_at__gt=at - timedelta(days=1)
    ).count()
    if recent >= limit:
        raise BaselineDailyLimit(details={"limit": limit, "window_hours": 24})
    return baseline_add_sample(user=user, sample=sample, source=SampleSource.SELF_REPORTED, via=via, at=at)


def sample_from_behaviour(behaviour: dict[str, Any] | None) -> dict[str, float]:
    """One baseline sample measured from a session's aggregate state (only what was measured)."""
    signals = signals_from(behaviour)
    candidates = {
        "typing_speed_wpm": signals.wpm,
        "mouse_speed_pxs": signals.mouse_speed_pxs,
        "avg_question_time_sec": signals.avg_question_time_sec,
        "key_hold_ms": signals.key_hold_ms,
        "key_latency_ms": signals.key_latency_ms,
    }
    sample = {key: value for key, value in candidates.items() if value is not None}
    if sample:
        # Tab switches per calibration session: only meaningful when something else was measured.
        sample["tab_switch_rate"] = float(signals.tab_switches)
    return sample


@transaction.atomic
def baseline_add_calibration(
    *,
    user: Any,
    session_id: int,
    events: Iterable[tuple[str, Any]],
    behaviour: dict[str, Any] | None = None,
    via: str = "calibration exam",
    at: datetime | None = None,
) -> Baseline:
    """Turn one calibration sitting into baseline samples (scoring.calibration: up to three, from its
    measurement windows), once per session; one sitting makes the baseline ready.

    `events` are the sitting's scored (event_type, payload) pairs in stored order. When none of them
    measured anything (their events were purged), the session's aggregate gives one sample.
    Nothing measured at all adds nothing.
    """
    at = at or timezone.now()
    if BaselineSample.objects.filter(user_id=user.pk, calibration_session_id=session_id).exists():
        return Baseline.objects.get_or_create(user_id=user.pk)[0]
    samples = calibration_samples(events)
    if not samples:
        fallback = sample_from_behaviour(behaviour)
        samples = [fallback] if fallback else []
    if not samples:
        return Baseline.objects.get_or_create(user_id=user.pk)[0]
    BaselineSample.objects.bulk_create(
        [
            _new_sample(
                user=user, sample=sample, source=SampleSource.CALIBRATION, via=via, at=at, session_id=session_id
            )
            for sample in samples
        ]
    )
    return _baseline_refresh(user=user)


def _baseline_refresh(*, user: Any) -> Baseline:
    """Re-derive the user's Baseline row from their active samples (means, provenance, detector)."""
    baseline, _ = Baseline.objects.select_for_update().get_or_create(user_id=user.pk)
    active = BaselineSample.objects.filter(user_id=user.pk, discarded_at__isnull=True)
    totals = active.aggregate(
        n=Count("id"),
        first_at=Min("recorded_at"),
        last_at=Max("recorded_at"),
        **{field: Avg(field) for field in SAMPLE_FIELDS},
    )
    by_source = dict(active.order_by().values_list("source").annotate(n=Count("id")))
    sessions = list(
        active.filter(calibration_session_id__isnull=False)
        .order_by("calibration_session_id")
        .values_list("calibration_session_id", flat=True)
        .distinct()[:PROVENANCE_SESSIONS_LISTED]
    )
    newest = list(active.order_by("-recorded_at", "-id").values("id", *SAMPLE_FIELDS)[:MAX_STORED_SAMPLES])[::-1]
    samples = [{field: row[field] for field in SAMPLE_FIELDS if row[field] is not None} for row in newest]
    features: dict[str, Any] = {
        "samples": samples,
        "key_means": {field: totals[field] for field in ("key_hold_ms", "key_latency_ms")},
        "provenance": {
            **{source: by_source.get(source, 0) for source in SampleSource.values},
            "calibration_sessions": sessions,
            "first_at": totals["first_at"].isoformat() if totals["first_at"] else None,
            "last_at": totals["last_at"].isoformat() if totals["last_at"] else None,
        },
        "sample_ids": {"first": newest[0]["id"], "last": newest[-1]["id"]} if newest else {},
        "detector": detector_params(samples),
    }
    if totals["n"] == 0 and "reset_at" in baseline.features:
        features["reset_at"] = baseline.features["reset_at"]
    baseline.features = features
    baseline.sample_count = totals["n"]
    for field in MEAN_FIELDS:
        setattr(baseline, field, totals[field])
    baseline.save()
    return baseline


@transaction.atomic
def baseline_reset(*, user: Any, actor: Any, via: str = "api", reason: str = "") -> Baseline | None:
    """A superuser clears a baseline so it is collected again: the samples are discarded (kept for the
    record), the decision audited with what the baseline was. SuperuserOnly for anyone else."""
    if actor is None or not getattr(actor, "is_superuser", False):
        raise SuperuserOnly("Only a superuser can reset a baseline: every course's exams are scored against it.")
    baseline = Baseline.objects.select_for_update().filter(user_id=user.pk).first()
    if baseline is None:
        return None
    before = baseline_summary_of(baseline)
    now = timezone.now()
    discarded = BaselineSample.objects.filter(user_id=user.pk, discarded_at__isnull=True).update(discarded_at=now)
    baseline.features = {"reset_at": now.isoformat()}
    baseline.save(update_fields=["features", "updated_at"])
    baseline = _baseline_refresh(user=user)
    audit_record(
        actor=actor,
        action="baseline_reset",
        target=baseline,
        details={"user_id": user.pk, "samples_discarded": discarded, "before": before, "via": via, "reason": reason},
    )
    return baseline


# -- reads --------------------------------------------------------------------------------------------


def baseline_ready(baseline: Baseline | None) -> bool:
    """Enough to trust: BASELINE_READY_SAMPLES samples, or one calibration sitting (which gives the
    detector the spread of the student's own measurement windows: scoring.calibration)."""
    if baseline is None or baseline.sample_count == 0:
        return False
    calibrated = (baseline.features.get("provenance") or {}).get(SampleSource.CALIBRATION, 0)
    return baseline.sample_count >= BASELINE_READY_SAMPLES or calibrated > 0


def baseline_status(baseline: Baseline | None) -> str:
    """missing (no sample), reset (cleared by a superuser, no sample since), collecting, or ready."""
    if baseline is None:
        return BaselineStatus.MISSING
    if baseline_ready(baseline):
        return BaselineStatus.READY
    if baseline.sample_count == 0 and "reset_at" in baseline.features:
        return BaselineStatus.RESET
    if baseline.sample_count == 0:
        return BaselineStatus.MISSING
    return BaselineStatus.COLLECTING


def baseline_get(*, user: Any) -> Baseline | None:
    """The user's baseline row, or None."""
    return Baseline.objects.filter(user_id=user.pk).first()


def baseline_version(baseline: Baseline | None) -> str | None:
    """What identifies one state of a baseline row: any sample or reset changes it."""
    if baseline is None:
        return None
    stamp = baseline.updated_at.isoformat() if baseline.updated_at else ""
    return f"{baseline.pk}:{baseline.sample_count}:{stamp}"


def _key_means(baseline: Baseline) -> dict[str, float | None]:
    means = baseline.features.get("key_means")
    if isinstance(means, dict):
        return {field: means.get(field) for field in ("key_hold_ms", "key_latency_ms")}
    # A row written before the samples table (or by a bulk seeding tool): from its cached samples.
    samples = baseline.features.get("samples") or []
    out = {}
    for field in ("key_hold_ms", "key_latency_ms"):
        values = [s[field] for s in samples if isinstance(s.get(field), int | float)]
        out[field] = sum(values) / len(values) if values else None
    return out


def baseline_summary_of(baseline: Baseline | None) -> dict[str, Any]:
    """A baseline's means, counts and provenance as plain JSON (audit entries, the API)."""
    if baseline is None:
        return {"sample_count": 0, "means": {}, "provenance": {}}
    return {
        "sample_count": baseline.sample_count,
        "means": {**{field: getattr(baseline, field) for field in MEAN_FIELDS}, **_key_means(baseline)},
        "provenance": baseline.features.get("provenance") or {},
    }


def baseline_snapshot(*, user: Any, at: datetime | None = None) -> dict[str, Any]:
    """The baseline as it stands now, frozen for a session that starts now (scoring.snapshot)."""
    at = at or timezone.now()
    baseline = baseline_get(user=user)
    summary = baseline_summary_of(baseline)
    features = baseline.features if baseline else {}
    detector = features.get("detector") if "detector" in features else detector_params(features.get("samples") or [])
    return snapshot_build(
        taken_at=at.isoformat(),
        baseline_id=baseline.pk if baseline else None,
        version=baseline_version(baseline),
        status=baseline_status(baseline),
        ready=baseline_ready(baseline),
        ready_after=BASELINE_READY_SAMPLES,
        sample_count=summary["sample_count"],
        means=summary["means"],
        provenance=summary["provenance"],
        sample_ids=features.get("sample_ids") or {},
        detector=detector,
    )
