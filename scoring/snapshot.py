"""The baseline a session is scored against, frozen when the session starts. Pure: no Django.

A session keeps this JSON (`ExamSession.baseline_snapshot`) so its score never moves with the
student's baseline afterwards (nobody moves their own yardstick mid-exam), a rescore reproduces it,
and a reviewer can see what it compared against and where that came from:

    {"v": 1, "taken_at": iso, "baseline_id": int | None, "version": str | None,
     "status": "missing" | "collecting" | "ready" | "reset", "ready": bool, "ready_after": int,
     "sample_count": int,
     "means": {"typing_speed_wpm", "mouse_speed_pxs", "avg_question_time_sec", "tab_switch_rate",
               "key_hold_ms", "key_latency_ms"},
     "provenance": {"calibration": n, "self_reported": n, "legacy": n,
                    "calibration_sessions": [session ids], "first_at": iso, "last_at": iso},
     "sample_ids": {"first": id, "last": id},   # the active samples the detector was fitted on
     "detector": {"features": [...], "center": [...], "scale": [...], "n_samples": int} | None}

The detector is kept fitted (a median and a scale per feature: ten numbers), not as its samples, so
a server process holding thousands of live sessions holds no sample matrix per student; the sample
ids say exactly which rows it was fitted on, so it can be refitted from the samples table.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from scoring.anomaly import SESSION_FEATURES, BaselineDetector
from scoring.types import BaselineStats

SNAPSHOT_VERSION = 1
MEAN_KEYS = (
    "typing_speed_wpm",
    "mouse_speed_pxs",
    "avg_question_time_sec",
    "tab_switch_rate",
    "key_hold_ms",
    "key_latency_ms",
)


def _number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return math.nan
    return float(value)


def detector_params(samples: Sequence[Mapping[str, Any]]) -> dict[str, Any] | None:
    """Fit the per-student detector on these samples (SESSION_FEATURES of each) and return its
    parameters as JSON, or None when there is nothing to fit."""
    if not samples:
        return None
    matrix = np.array([[_number(sample.get(name)) for name in SESSION_FEATURES] for sample in samples], dtype=float)
    if np.isnan(matrix).all():
        return None
    return {"features": list(SESSION_FEATURES), **BaselineDetector().fit(matrix).params()}


def snapshot_build(
    *,
    taken_at: str,
    baseline_id: int | None,
    version: str | None,
    status: str,
    ready: bool,
    ready_after: int,
    sample_count: int,
    means: Mapping[str, float | None],
    provenance: Mapping[str, Any],
    sample_ids: Mapping[str, int | None],
    detector: Mapping[str, Any] | None,
) -> dict[str, Any]:
    """A session's baseline snapshot as stored (see the module docstring)."""
    return {
        "v": SNAPSHOT_VERSION,
        "taken_at": taken_at,
        "baseline_id": baseline_id,
        "version": version,
        "status": status,
        "ready": ready,
        "ready_after": ready_after,
        "sample_count": sample_count,
        "means": {key: means.get(key) for key in MEAN_KEYS},
        "provenance": dict(provenance),
        "sample_ids": dict(sample_ids),
        "detector": dict(detector) if detector and ready else None,
    }


def is_recorded(snapshot: Mapping[str, Any] | None) -> bool:
    """Whether the session has a snapshot (sessions started before snapshots were kept have `{}`)."""
    return bool(snapshot) and snapshot.get("v") == SNAPSHOT_VERSION


def stats_from(snapshot: Mapping[str, Any] | None) -> BaselineStats | None:
    """The engine's view of a snapshot: None when the baseline had no sample."""
    if not is_recorded(snapshot) or not snapshot.get("sample_count"):
        return None
    means = snapshot.get("means") or {}
    return BaselineStats(
        typing_speed_wpm=means.get("typing_speed_wpm"),
        mouse_speed_pxs=means.get("mouse_speed_pxs"),
        avg_question_time_sec=means.get("avg_question_time_sec"),
        sample_count=int(snapshot["sample_count"]),
        ready=bool(snapshot.get("ready")),
        ready_after=int(snapshot.get("ready_after") or 0),
    )


def detector_from(snapshot: Mapping[str, Any] | None) -> BaselineDetector | None:
    """The fitted detector the snapshot kept (None before the baseline was ready)."""
    if not is_recorded(snapshot):
        return None
    params = snapshot.get("detector")
    if not params or list(params.get("features") or []) != list(SESSION_FEATURES):
        return None
    return BaselineDetector.from_params(params)


def snapshot_explained(snapshot: Mapping[str, Any] | None) -> dict[str, Any]:
    """The snapshot for a reviewer (the review page, the proctors' session detail): what the session was
    compared against and where it came from, without the detector's numbers."""
    if not is_recorded(snapshot):
        return {"recorded": False}
    return {
        "recorded": True,
        "taken_at": snapshot.get("taken_at"),
        "status": snapshot.get("status"),
        "ready": bool(snapshot.get("ready")),
        "sample_count": snapshot.get("sample_count", 0),
        "means": dict(snapshot.get("means") or {}),
        "provenance": dict(snapshot.get("provenance") or {}),
        "detector": bool(snapshot.get("detector")),
        "backfilled": bool(snapshot.get("backfilled")),
    }
