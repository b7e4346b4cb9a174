"""Population model: an IsolationForest over completed sessions' aggregate feature vectors.

Where the per-student detector asks "is this session unlike this student?", this model asks "is this
session unlike sessions in general?" — useful for students with no baseline yet. Training and
scoring take plain arrays; saving and loading live in scoring.services and the train command.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import sklearn
from sklearn.ensemble import IsolationForest

from scoring.types import Signals

FEATURES = (
    "wpm",
    "key_hold_ms",
    "key_latency_ms",
    "mouse_speed_pxs",
    "avg_question_time_sec",
    "tab_switches",
    "blur_seconds",
    "copy_paste_events",
)
RANDOM_STATE = 42
MIN_TRAINING_SESSIONS = 20
N_ESTIMATORS = 100


def vector_from(signals: Signals) -> list[float]:
    """The session's feature vector in FEATURES order; NaN where nothing was measured."""
    counts = signals.other_counts
    nan = math.nan
    return [
        nan if signals.wpm is None else signals.wpm,
        nan if signals.key_hold_ms is None else signals.key_hold_ms,
        nan if signals.key_latency_ms is None else signals.key_latency_ms,
        nan if signals.mouse_speed_pxs is None else signals.mouse_speed_pxs,
        nan if signals.avg_question_time_sec is None else signals.avg_question_time_sec,
        float(signals.tab_switches),
        float(signals.blur_seconds),
        float(counts.get("copy", 0) + counts.get("paste", 0) + counts.get("cut", 0)),
    ]


def _average_path_length(n: int) -> float:
    """c(n): the mean depth of an unsuccessful search in a binary tree of n points (Liu et al. 2008)."""
    if n <= 1:
        return 0.0
    if n == 2:
        return 1.0
    return 2.0 * (math.log(n - 1.0) + np.euler_gamma) - 2.0 * (n - 1.0) / n


@dataclass
class PopulationModel:
    """A fitted IsolationForest plus what is needed to score one session fast and explain the result."""

    forest: IsolationForest
    features: tuple[str, ...]
    fill: list[float]
    metadata: dict[str, Any] = field(default_factory=dict)
    _trees: list[tuple[list, list, list, list, list]] = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        # Plain-list copies of each tree: one session scores in ~100 µs instead of sklearn's per-call overhead.
        self._trees = []
        # Trees index the original columns unless the forest was fitted on a feature subset.
        subset = self.forest._max_features != len(self.features)
        for tree, columns in zip(self.forest.estimators_, self.forest.estimators_features_, strict=True):
            t = tree.tree_
            features = [(int(columns[f]) if subset else f) if f >= 0 else -1 for f in t.feature.tolist()]
            self._trees.append(
                (
                    t.children_left.tolist(),
                    t.children_right.tolist(),
                    features,
                    t.threshold.tolist(),
                    [_average_path_length(int(n)) for n in t.n_node_samples.tolist()],
                )
            )
        self._norm = _average_path_length(int(self.forest.max_samples_))
        self._offset = float(self.forest.offset_)

    def __getstate__(self) -> dict[str, Any]:
        return {"forest": self.forest, "features": self.features, "fill": self.fill, "metadata": self.metadata}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.forest, self.features, self.fill, self.metadata = (
            state["forest"],
            tuple(state["features"]),
            state["fill"],
            state["metadata"],
        )
        self.__post_init__()

    def _filled(self, vector: Sequence[float]) -> list[float]:
        return [self.fill[i] if math.isnan(v) else float(v) for i, v in enumerate(vector)]

    def score_one(self, vector: Sequence[float]) -> float:
        """Anomaly score in (0, 1] (Liu et al.'s s(x)); ~0.5 is ordinary, near 1 is isolated quickly."""
        x = self._filled(vector)
        total = 0.0
        for left, right, feature, threshold, leaf_depth in self._trees:
            node = 0
            depth = 0
            while left[node] != -1:
                node = left[node] if x[feature[node]] <= threshold[node] else right[node]
                depth += 1
            total += depth + leaf_depth[node]
        return 2.0 ** (-(total / len(self._trees)) / self._norm)

    def score(self, X: np.ndarray) -> np.ndarray:  # noqa: N803 - scikit-learn naming
        """Vectorised s(x) via scikit-learn (equal to score_one row by row)."""
        data = np.asarray(X, dtype=float)
        data = np.where(np.isnan(data), np.asarray(self.fill), data)
        return -self.forest.score_samples(data)

    def is_outlier(self, score: float) -> bool:
        """IsolationForest's own cut: outlier when s(x) exceeds -offset_ (0.5 with contamination="auto")."""
        return score > -self._offset


def train(
    X: np.ndarray,  # noqa: N803 - scikit-learn naming
    *,
    random_state: int = RANDOM_STATE,
    metadata: dict[str, Any] | None = None,
) -> PopulationModel:
    """Fit the forest on session vectors (rows in FEATURES order, NaN allowed); missing values get the median."""
    data = np.asarray(X, dtype=float)
    if data.ndim != 2 or data.shape[1] != len(FEATURES):
        raise ValueError(f"train needs a 2-D array with {len(FEATURES)} columns")
    if data.shape[0] < MIN_TRAINING_SESSIONS:
        raise ValueError(f"need at least {MIN_TRAINING_SESSIONS} sessions, got {data.shape[0]}")
    fill = []
    for j in range(data.shape[1]):
        column = data[~np.isnan(data[:, j]), j]
        fill.append(float(np.median(column)) if column.size else 0.0)
    filled = np.where(np.isnan(data), np.asarray(fill), data)
    forest = IsolationForest(n_estimators=N_ESTIMATORS, random_state=random_state, contamination="auto")
    forest.fit(filled)
    meta = {
        "features": list(FEATURES),
        "sample_count": int(data.shape[0]),
        "sklearn_version": sklearn.__version__,
        "random_state": random_state,
        "n_estimators": N_ESTIMATORS,
        **(metadata or {}),
    }
    return PopulationModel(forest=forest, features=FEATURES, fill=fill, metadata=meta)
