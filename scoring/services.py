"""Baseline reads and writes (the only place a Baseline row changes), and the fitted-model caches."""

from __future__ import annotations

import json
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

import joblib
import numpy as np
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.services import audit_record
from scoring.aggregation import signals_from
from scoring.anomaly import SESSION_FEATURES, BaselineDetector
from scoring.models import BASELINE_READY_SAMPLES, Baseline
from scoring.population import PopulationModel
from scoring.session import ScoringContext
from scoring.types import BaselineStats, Policy

# The scalar baseline fields the risk engine compares against, each a running mean.
MEAN_FIELDS = ("typing_speed_wpm", "mouse_speed_pxs", "avg_question_time_sec", "tab_switch_rate")
# Every field one calibration sample may carry; the keystroke timings feed the anomaly detector only.
SAMPLE_FIELDS = (*MEAN_FIELDS, "key_hold_ms", "key_latency_ms")
# Raw samples kept for the anomaly detector; older ones roll off.
MAX_STORED_SAMPLES = 200


class BaselineStatus:
    MISSING = "missing"
    COLLECTING = "collecting"
    READY = "ready"
    RESET = "reset"


def _running_mean(old: float | None, count_before: int, new: float) -> float:
    if old is None or count_before == 0:
        return float(new)
    return old + (float(new) - old) / (count_before + 1)


def _clean_sample(sample: dict[str, Any]) -> dict[str, float]:
    """Keep the known fields that hold finite numbers; the rest is noise."""
    clean: dict[str, float] = {}
    for field in SAMPLE_FIELDS:
        value = sample.get(field)
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            continue
        clean[field] = float(value)
    return clean


@transaction.atomic
def baseline_add_sample(*, user: Any, sample: dict[str, Any]) -> Baseline:
    """Fold one calibration sample into the user's baseline (running means + stored samples)."""
    sample = _clean_sample(sample)
    baseline, _ = Baseline.objects.select_for_update().get_or_create(user=user)
    baseline.features.pop("reset_at", None)
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


def baseline_add_from_behaviour(*, user: Any, behaviour: dict[str, Any] | None) -> Baseline:
    """Turn a calibration session's aggregates into one baseline sample; nothing measured adds nothing."""
    sample = sample_from_behaviour(behaviour)
    if not sample:
        baseline, _ = Baseline.objects.get_or_create(user=user)
        return baseline
    return baseline_add_sample(user=user, sample=sample)


@transaction.atomic
def baseline_reset(*, user: Any, actor: Any = None) -> Baseline | None:
    """Clear a baseline so it is collected again from scratch (a proctor's decision, audited when an actor is given)."""
    baseline = Baseline.objects.select_for_update().filter(user=user).first()
    if baseline is None:
        return None
    before = baseline.sample_count
    baseline.features = {"reset_at": timezone.now().isoformat()}
    baseline.sample_count = 0
    for field in MEAN_FIELDS:
        setattr(baseline, field, None)
    baseline.save()
    if actor is not None:
        audit_record(actor=actor, action="baseline_reset", target=baseline, details={"samples_before": before})
    return baseline


def baseline_status(baseline: Baseline | None) -> str:
    """missing (no row), reset (cleared by a proctor, no sample since), collecting, or ready."""
    if baseline is None:
        return BaselineStatus.MISSING
    if baseline.sample_count >= BASELINE_READY_SAMPLES:
        return BaselineStatus.READY
    if baseline.sample_count == 0 and "reset_at" in baseline.features:
        return BaselineStatus.RESET
    if baseline.sample_count == 0:
        return BaselineStatus.MISSING
    return BaselineStatus.COLLECTING


def baseline_get(*, user: Any) -> Baseline | None:
    """The user's baseline row, or None."""
    return Baseline.objects.filter(user=user).first()


def baselines_for(*, user_ids: Iterable[int]) -> dict[int, Baseline]:
    """The baseline rows of many users in one query, by user id (users without one are absent)."""
    return {baseline.user_id: baseline for baseline in Baseline.objects.filter(user_id__in=set(user_ids))}


def baseline_stats(baseline: Baseline | None) -> BaselineStats | None:
    """The engine's view of a baseline row: None when it has no sample at all."""
    if baseline is None or baseline.sample_count == 0:
        return None
    return BaselineStats(
        typing_speed_wpm=baseline.typing_speed_wpm,
        mouse_speed_pxs=baseline.mouse_speed_pxs,
        avg_question_time_sec=baseline.avg_question_time_sec,
        sample_count=baseline.sample_count,
        ready=baseline.sample_count >= BASELINE_READY_SAMPLES,
        ready_after=BASELINE_READY_SAMPLES,
    )


# ---- Fitted models: per-student detectors and the population model, each cached per process. ----

_DETECTOR_CACHE_SIZE = 2048
_detectors: OrderedDict[tuple, BaselineDetector] = OrderedDict()
_population: dict[str, Any] = {"key": None, "model": None}
MODEL_PREFIX = "population-"


def _baseline_matrix(baseline: Baseline) -> np.ndarray:
    samples = baseline.features.get("samples", [])
    return np.array(
        [[_as_float(sample.get(name)) for name in SESSION_FEATURES] for sample in samples], dtype=float
    ).reshape(len(samples), len(SESSION_FEATURES))


def _as_float(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return math.nan
    return float(value)


def detector_for(baseline: Baseline | None) -> BaselineDetector | None:
    """The student's fitted detector once the baseline is ready (fitted once per baseline version), else None."""
    if baseline is None or baseline.sample_count < BASELINE_READY_SAMPLES:
        return None
    key = baseline_version(baseline)
    detector = _detectors.get(key)
    if detector is not None:
        _detectors.move_to_end(key)
        return detector
    matrix = _baseline_matrix(baseline)
    if matrix.shape[0] == 0:
        return None
    detector = BaselineDetector().fit(matrix)
    _detectors[key] = detector
    while len(_detectors) > _DETECTOR_CACHE_SIZE:
        _detectors.popitem(last=False)
    return detector


def model_dir() -> Path:
    """Where population models are saved (settings.EXAMPULSE["MODEL_DIR"])."""
    return Path(settings.EXAMPULSE["MODEL_DIR"])


def population_model_save(*, model: PopulationModel, at: datetime | None = None) -> Path:
    """Write the model and its metadata as a new version; older versions stay for rollback."""
    at = at or timezone.now()
    directory = model_dir()
    directory.mkdir(parents=True, exist_ok=True)
    version = at.strftime("%Y%m%dT%H%M%S%fZ")
    model.metadata.update({"version": version, "trained_at": at.isoformat()})
    path = directory / f"{MODEL_PREFIX}{version}.joblib"
    joblib.dump(model, path)
    path.with_suffix(".json").write_text(json.dumps(model.metadata, indent=2, sort_keys=True))
    return path


# The newest model path as last listed: (directory, its mtime then, path or None). Replaced whole,
# so a thread never reads half of it.
_newest: tuple[str, int, Path | None] | None = None
# A directory changed this recently (ns) may change again within its mtime's granularity: list it again.
_MTIME_SETTLE_NS = 2_000_000_000


def population_model_path() -> Path | None:
    """The newest saved model file, or None when none was trained.

    Scoring asks for it once per scored session per batch, so the listing is cached by the
    directory's mtime (a save or a removal changes it); a directory modified in the last couple of
    seconds is listed again every time, so a change inside one mtime tick is never missed.
    """
    global _newest
    directory = model_dir()
    try:
        stat = directory.stat()
    except OSError:
        return None
    key, mtime = str(directory), stat.st_mtime_ns
    cached = _newest
    if cached is not None and cached[0] == key and cached[1] == mtime and time.time_ns() - mtime > _MTIME_SETTLE_NS:
        return cached[2]
    if not directory.is_dir():
        return None
    # Versions are UTC timestamps, so the lexically greatest name is the newest.
    paths = sorted(directory.glob(f"{MODEL_PREFIX}*.joblib"))
    path = paths[-1] if paths else None
    _newest = (key, mtime, path)
    return path


def population_model() -> PopulationModel | None:
    """The newest population model, loaded once per version and process; None when none was trained."""
    return _population_load(population_model_path())


def _population_load(path: Path | None) -> PopulationModel | None:
    if path is None:
        return None
    key = str(path)
    if _population["key"] != key:
        # Only files this app wrote into MODEL_DIR are loaded: joblib files are pickles.
        _population["model"] = joblib.load(path)
        _population["key"] = key
    return _population["model"]


# ---- Scoring contexts: one per (policy, baseline version, population model), shared by every path. ----

_CONTEXT_CACHE_SIZE = 4096
_contexts: OrderedDict[tuple, ScoringContext] = OrderedDict()
# Ingestion runs in several database threads (the socket's batch workers); LRU moves are not atomic.
_contexts_lock = threading.Lock()


def baseline_version(baseline: Baseline | None) -> tuple | None:
    """What identifies one state of a baseline row: any sample or reset changes it."""
    if baseline is None:
        return None
    return (baseline.pk, baseline.sample_count, baseline.updated_at.isoformat() if baseline.updated_at else "")


def scoring_context(*, policy: Policy, baseline: Baseline | None) -> ScoringContext:
    """The context a session is scored with, built once per process for each (policy, baseline version,
    population model version) and then reused: an edit of the exam's rules, the student's
    accommodations or baseline, or a newly trained model changes the key, so the next event on any
    path (socket, REST, rescore) scores with it. No query: the caller brings the baseline row."""
    population_path = population_model_path()
    key = (policy, baseline_version(baseline), str(population_path) if population_path else None)
    with _contexts_lock:
        context = _contexts.get(key)
        if context is not None:
            _contexts.move_to_end(key)
            return context
    context = ScoringContext(
        policy=policy,
        baseline=baseline_stats(baseline),
        detector=detector_for(baseline),
        population=_population_load(population_path),
    )
    with _contexts_lock:
        _contexts[key] = context
        while len(_contexts) > _CONTEXT_CACHE_SIZE:
            _contexts.popitem(last=False)
    return context
