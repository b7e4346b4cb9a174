"""Per-student anomaly detection on fixed-length behaviour vectors (keystroke timings, mouse, answer timing).

Method: a robust *scaled Manhattan* detector. Killourhy & Maxion ("Comparing Anomaly-Detection
Algorithms for Keystroke Dynamics", DSN 2009) ran 14 detectors on one 51-subject, 31-feature data set;
scaled Manhattan had the lowest equal error rate (0.096), ahead of nearest-neighbour Mahalanobis
(0.100) and outlier count (0.102). We take scaled Manhattan because it also suits our conditions
where Mahalanobis does not: it needs no covariance matrix (which 3-10 calibration samples in 31
dimensions cannot estimate), it costs O(features) to score, and it explains itself per feature.
We make it robust by replacing each feature's mean and mean absolute deviation with the median and
the (normal-consistent) median absolute deviation, so a few outlying calibration samples move
neither centre nor scale, and by flooring each scale at a fraction of the median so two nearly
equal samples do not make every later deviation look enormous. Missing values (NaN / None) are
skipped, feature by feature; the score is the *mean* scaled deviation over the features present,
so scores stay comparable when a session has not produced every kind of event.

`equal_error_rate` and `calibrate_threshold` evaluate and calibrate it; the figures for the
synthetic benchmark (scoring.synthetic) are in docs/benchmarks.md.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from scoring.types import Signals

# MAD * 1.4826 estimates the standard deviation of normal data.
MAD_TO_SD = 1.4826
# A feature's scale is never under 10 % of its median: timing CVs below that are not human.
MIN_RELATIVE_SCALE = 0.1
MIN_ABSOLUTE_SCALE = 1e-6
# One feature cannot dominate the mean: a single wild value counts as at most this many scales.
MAX_FEATURE_DEVIATION = 10.0

# Mean scaled deviation above which a session is flagged as unlike the student's own baseline.
# Calibrated by `calibrate_threshold(..., max_false_alarm=0.02)` on `scoring.synthetic.session_vectors()`
# (5 session features, 3-10 calibration samples per student); tests/scoring/test_anomaly.py re-derives it.
ANOMALY_THRESHOLD = 2.5

# The per-student vector: what a calibration sample and a live session both measure (baseline sample keys).
SESSION_FEATURES = ("typing_speed_wpm", "key_hold_ms", "key_latency_ms", "mouse_speed_pxs", "avg_question_time_sec")


def session_vector(signals: Signals) -> list[float | None]:
    """The session's SESSION_FEATURES values (None where nothing was measured yet)."""
    return [
        signals.wpm,
        signals.key_hold_ms,
        signals.key_latency_ms,
        signals.mouse_speed_pxs,
        signals.avg_question_time_sec,
    ]


def column_medians(data: np.ndarray) -> np.ndarray:
    """Each column's median over its non-NaN values (NaN for a column without any), in one sort.

    Equal to np.median column by column on the present values; a join fits one detector per
    student, and one sort of the whole matrix costs a tenth of a median call per column.
    """
    ordered = np.sort(data, axis=0)  # NaN sorts last, so each column's values come first
    counts = np.count_nonzero(~np.isnan(data), axis=0)
    columns = np.arange(data.shape[1])
    low = ordered[np.maximum((counts - 1) // 2, 0), columns]
    high = ordered[np.minimum(counts // 2, data.shape[0] - 1), columns]
    return np.where(counts > 0, (low + high) / 2, np.nan)


class BaselineDetector:
    """Robust scaled-Manhattan detector: fit on one student's samples, score = mean |x - median| / scale."""

    def __init__(
        self,
        *,
        min_relative_scale: float = MIN_RELATIVE_SCALE,
        max_feature_deviation: float = MAX_FEATURE_DEVIATION,
    ) -> None:
        self.min_relative_scale = min_relative_scale
        self.max_feature_deviation = max_feature_deviation
        self.center_: np.ndarray | None = None
        self.scale_: np.ndarray | None = None
        self.n_samples_: int = 0

    def fit(self, X: np.ndarray | Sequence[Sequence[float]]) -> BaselineDetector:  # noqa: N803 - scikit-learn naming
        """Learn per-feature median and robust scale from a 2-D array of baseline samples (NaN: missing)."""
        data = np.asarray(X, dtype=float)
        if data.ndim != 2 or data.shape[0] == 0:
            raise ValueError("fit needs a 2-D array with at least one sample")
        # A feature never measured in the baseline stays NaN in both and is ignored at scoring time.
        center = column_medians(data)
        mad = column_medians(np.abs(data - center)) * MAD_TO_SD
        # np.maximum keeps the NaN of an empty column.
        scale = np.maximum(np.maximum(mad, self.min_relative_scale * np.abs(center)), MIN_ABSOLUTE_SCALE)
        self.center_, self.scale_, self.n_samples_ = center, scale, int(data.shape[0])
        return self

    def params(self) -> dict[str, object]:
        """The fitted state as plain JSON (NaN as None): what a session's baseline snapshot keeps."""
        self._check_fitted()
        as_json = [None if math.isnan(value) else value for value in self.center_.tolist()]
        scale = [None if math.isnan(value) else value for value in self.scale_.tolist()]
        return {"center": as_json, "scale": scale, "n_samples": self.n_samples_}

    @classmethod
    def from_params(cls, params: dict) -> BaselineDetector:
        """The detector `params()` described, without refitting (a snapshot's detector is rebuilt exactly)."""
        detector = cls()
        detector.center_ = np.array([math.nan if v is None else float(v) for v in params["center"]], dtype=float)
        detector.scale_ = np.array([math.nan if v is None else float(v) for v in params["scale"]], dtype=float)
        detector.n_samples_ = int(params.get("n_samples", 0))
        return detector

    def _check_fitted(self) -> None:
        if self.center_ is None:
            raise RuntimeError("BaselineDetector is not fitted")

    def deviations(self, X: np.ndarray | Sequence[Sequence[float]]) -> np.ndarray:  # noqa: N803 - scikit-learn naming
        """Per-feature capped scaled deviations, NaN where the value or the baseline is missing."""
        self._check_fitted()
        data = np.atleast_2d(np.asarray(X, dtype=float))
        return np.minimum(np.abs(data - self.center_) / self.scale_, self.max_feature_deviation)

    def score(self, X: np.ndarray | Sequence[Sequence[float]]) -> np.ndarray:  # noqa: N803 - scikit-learn naming
        """One score per row, higher = more anomalous; NaN for a row sharing no feature with the baseline."""
        dev = self.deviations(X)
        counts = np.sum(~np.isnan(dev), axis=1)
        totals = np.nansum(dev, axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(counts > 0, totals / np.maximum(counts, 1), np.nan)

    def score_one(self, values: Sequence[float | None]) -> float | None:
        """Score one vector in plain Python (the live path: no numpy call overhead); None if nothing comparable."""
        self._check_fitted()
        total = 0.0
        count = 0
        for value, center, scale in zip(values, self.center_.tolist(), self.scale_.tolist(), strict=True):
            if value is None or math.isnan(value) or math.isnan(center):
                continue
            total += min(abs(value - center) / scale, self.max_feature_deviation)
            count += 1
        return total / count if count else None

    def explain_one(self, values: Sequence[float | None], names: Sequence[str], *, top: int = 2) -> str:
        """The features furthest from the baseline, in words a reviewer can check."""
        self._check_fitted()
        parts = []
        for value, center, scale, name in zip(values, self.center_.tolist(), self.scale_.tolist(), names, strict=True):
            if value is None or math.isnan(value) or math.isnan(center):
                continue
            parts.append((min(abs(value - center) / scale, self.max_feature_deviation), name, value, center))
        parts.sort(reverse=True)
        return "; ".join(
            f"{name} {value:.4g} vs baseline median {center:.4g} ({dev:.1f} robust SDs)"
            for dev, name, value, center in parts[:top]
        )


def equal_error_rate(genuine: np.ndarray, impostor: np.ndarray) -> tuple[float, float]:
    """(EER, threshold): where the false-reject rate of genuine scores meets the false-accept rate of impostors."""
    genuine = np.asarray(genuine, dtype=float)
    impostor = np.asarray(impostor, dtype=float)
    thresholds = np.unique(np.concatenate([genuine, impostor]))
    # A score above the threshold is flagged: genuine above = false reject, impostor at or below = false accept.
    frr = np.array([np.mean(genuine > t) for t in thresholds])
    far = np.array([np.mean(impostor <= t) for t in thresholds])
    best = int(np.argmin(np.abs(frr - far)))
    return float((frr[best] + far[best]) / 2), float(thresholds[best])


def calibrate_threshold(genuine: np.ndarray, *, max_false_alarm: float) -> float:
    """The lowest threshold that flags at most `max_false_alarm` of genuine scores."""
    genuine = np.sort(np.asarray(genuine, dtype=float))
    index = min(len(genuine) - 1, math.ceil((1 - max_false_alarm) * len(genuine)) - 1)
    return float(genuine[max(index, 0)])
