"""The fitted-model caches (population model, scoring contexts); baseline reads and writes live in
scoring.baselines and are re-exported here for the apps that call them."""

from __future__ import annotations

import json
import threading
import time
from collections import OrderedDict
from datetime import datetime
from pathlib import Path
from typing import Any

import joblib
from django.conf import settings
from django.utils import timezone

from scoring.baselines import (  # noqa: F401 (re-exported: the apps' one import for baselines)
    MEAN_FIELDS,
    SAMPLE_FIELDS,
    BaselineStatus,
    baseline_add_calibration,
    baseline_add_sample,
    baseline_get,
    baseline_guard_register,
    baseline_ready,
    baseline_reset,
    baseline_sample_submit,
    baseline_snapshot,
    baseline_status,
    baseline_summary_of,
    baseline_version,
    sample_from_behaviour,
)
from scoring.population import PopulationModel
from scoring.session import ScoringContext
from scoring.snapshot import detector_from, is_recorded, stats_from
from scoring.types import Policy

# ---- Fitted models: the population model, cached per process (a session's detector rides in its snapshot). ----

_population: dict[str, Any] = {"key": None, "model": None}
MODEL_PREFIX = "population-"


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


# ---- Scoring contexts: one per (policy, baseline snapshot version, population model), shared by every path. ----

_CONTEXT_CACHE_SIZE = 4096
_contexts: OrderedDict[tuple, ScoringContext] = OrderedDict()
# Ingestion runs in several database threads (the socket's batch workers); LRU moves are not atomic.
_contexts_lock = threading.Lock()


def scoring_context(*, policy: Policy, snapshot: dict[str, Any] | None) -> ScoringContext:
    """The context a session is scored with: its policy and the baseline snapshot taken when it started
    (scoring.snapshot), built once per process for each (policy, snapshot version, population model
    version) and then reused. The snapshot carries the fitted detector, so nothing is fitted here and
    nothing is read: an edit of the exam's rules or a newly trained model changes the key, and the
    student's baseline changing afterwards does not (a session keeps its yardstick)."""
    population_path = population_model_path()
    version = snapshot.get("version") if is_recorded(snapshot) else None
    key = (policy, version, str(population_path) if population_path else None)
    with _contexts_lock:
        context = _contexts.get(key)
        if context is not None:
            _contexts.move_to_end(key)
            return context
    context = ScoringContext(
        policy=policy,
        baseline=stats_from(snapshot),
        detector=detector_from(snapshot),
        population=_population_load(population_path),
    )
    with _contexts_lock:
        _contexts[key] = context
        while len(_contexts) > _CONTEXT_CACHE_SIZE:
            _contexts.popitem(last=False)
    return context
