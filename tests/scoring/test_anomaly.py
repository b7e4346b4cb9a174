"""The per-student detector: API contract, robustness, and its error rates on the fixed-seed synthetic set."""

from __future__ import annotations

import numpy as np
import pytest

from scoring.anomaly import ANOMALY_THRESHOLD, BaselineDetector, calibrate_threshold, column_medians, equal_error_rate
from scoring.synthetic import keystroke_dataset, session_vectors


@pytest.fixture(scope="module")
def keystrokes():
    return keystroke_dataset(subjects=51, repetitions=400, seed=2009)


def _mean_eer(data: np.ndarray, *, train: int, contaminate: float = 0.0) -> float:
    """Killourhy & Maxion's protocol: train on a subject's first samples, test 200 more vs 5 of each other subject."""
    rng = np.random.default_rng(1)
    subjects = data.shape[0]
    eers = []
    for s in range(subjects):
        training = data[s, :train].copy()
        if contaminate:
            k = int(contaminate * train)
            others = [o for o in range(subjects) if o != s]
            training[:k] = data[rng.choice(others, k), rng.integers(300, 400, k)]
        detector = BaselineDetector().fit(training)
        genuine = detector.score(data[s, 200:400])
        impostor = detector.score(np.concatenate([data[o, :5] for o in range(subjects) if o != s]))
        eers.append(equal_error_rate(genuine, impostor)[0])
    return float(np.mean(eers))


def test_equal_error_rate_on_synthetic_keystrokes_is_under_ten_percent(keystrokes):
    assert _mean_eer(keystrokes, train=200) < 0.10


def test_few_baseline_samples_still_separate_students(keystrokes):
    assert _mean_eer(keystrokes, train=5) < 0.15


def test_outliers_in_the_baseline_barely_move_the_error_rate(keystrokes):
    clean = _mean_eer(keystrokes, train=200)
    contaminated = _mean_eer(keystrokes, train=200, contaminate=0.1)
    assert contaminated < clean + 0.03


def test_the_live_threshold_is_the_two_percent_false_alarm_point_of_session_vectors():
    genuine_sets, other_sets = session_vectors()
    genuine, other = [], []
    for n in (3, 5, 10):
        for student in range(genuine_sets.shape[0]):
            detector = BaselineDetector().fit(genuine_sets[student, :n])
            genuine.extend(detector.score(genuine_sets[student, 10:]))
            other.extend(detector.score(other_sets[student, 10:]))
    threshold = calibrate_threshold(np.array(genuine), max_false_alarm=0.02)
    assert threshold == pytest.approx(ANOMALY_THRESHOLD, abs=0.1), "re-calibrate ANOMALY_THRESHOLD"
    assert np.mean(np.array(genuine) > ANOMALY_THRESHOLD) <= 0.025
    assert np.mean(np.array(other) > ANOMALY_THRESHOLD) > 0.4


def test_score_is_one_value_per_row_higher_for_further_rows():
    detector = BaselineDetector().fit([[100.0, 10.0], [110.0, 11.0], [90.0, 9.0], [105.0, 10.5]])
    scores = detector.score([[102.0, 10.2], [150.0, 15.0], [400.0, 40.0]])
    assert scores.shape == (3,)
    assert scores[0] < scores[1] < scores[2]


def test_one_wild_baseline_sample_moves_neither_centre_nor_scale():
    clean = [[100.0], [104.0], [96.0], [102.0], [98.0]]
    detector = BaselineDetector().fit(clean)
    polluted = BaselineDetector().fit([*clean, [10_000.0]])
    assert polluted.center_[0] == pytest.approx(detector.center_[0], abs=2.0)
    assert polluted.scale_[0] < 2 * detector.scale_[0]


def test_identical_samples_get_a_floor_scale_instead_of_infinite_scores():
    detector = BaselineDetector().fit([[50.0, 200.0], [50.0, 200.0]])
    assert np.all(np.isfinite(detector.score([[55.0, 220.0]])))
    assert detector.score([[55.0, 220.0]])[0] == pytest.approx(1.0)


def test_missing_values_are_skipped_feature_by_feature():
    detector = BaselineDetector().fit([[100.0, np.nan], [110.0, np.nan], [90.0, np.nan]])
    assert np.isnan(detector.center_[1])
    assert detector.score([[100.0, 5.0]])[0] == pytest.approx(0.0)
    assert np.isnan(detector.score([[np.nan, 5.0]])[0])
    assert detector.score_one([None, 5.0]) is None


@pytest.mark.parametrize("seed", range(5))
def test_column_medians_match_numpy_on_each_columns_present_values(seed):
    rng = np.random.default_rng(seed)
    rows, columns = int(rng.integers(1, 12)), int(rng.integers(1, 8))
    data = rng.normal(50, 20, size=(rows, columns))
    data[rng.random((rows, columns)) < 0.3] = np.nan
    data[:, 0] = np.nan  # a feature the baseline never measured
    expected = [np.median(col[~np.isnan(col)]) if (~np.isnan(col)).any() else np.nan for col in data.T]
    np.testing.assert_allclose(column_medians(data), expected, equal_nan=True)


def test_score_one_matches_the_array_path():
    rng = np.random.default_rng(3)
    detector = BaselineDetector().fit(rng.normal(100, 10, (8, 5)))
    rows = rng.normal(100, 30, (20, 5))
    assert [detector.score_one(row) for row in rows.tolist()] == pytest.approx(detector.score(rows).tolist())


def test_explanation_names_the_furthest_features():
    detector = BaselineDetector().fit([[40.0, 100.0, 60.0], [42.0, 105.0, 62.0], [38.0, 95.0, 58.0]])
    text = detector.explain_one([41.0, 300.0, 5.0], ["typing_speed_wpm", "key_hold_ms", "avg_question_time_sec"])
    assert text.startswith("key_hold_ms 300 vs baseline median 100")
    assert "avg_question_time_sec 5" in text
    assert "typing_speed_wpm" not in text


def test_fit_refuses_an_empty_or_one_dimensional_input():
    with pytest.raises(ValueError, match="2-D"):
        BaselineDetector().fit(np.empty((0, 3)))
    with pytest.raises(ValueError, match="2-D"):
        BaselineDetector().fit([1.0, 2.0])


def test_equal_error_rate_of_perfectly_separated_scores_is_zero():
    eer, threshold = equal_error_rate(np.array([0.1, 0.2, 0.3]), np.array([1.0, 2.0]))
    assert eer == 0.0
    assert 0.3 <= threshold < 1.0
