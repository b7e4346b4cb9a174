"""monitoring.ingest.risk: context, scoring and the one-UPDATE write that live ingestion and rescore share."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest
from django.utils import timezone

from exams.accommodations import accommodations_applied
from exams.models import Exam, ExamSession
from monitoring.ingest.risk import scoring_context_for, session_apply_score
from scoring.aggregation import fold_all
from scoring.population import FEATURES, train
from scoring.services import baseline_add_sample, baseline_snapshot, population_model_save
from scoring.session import session_score

pytestmark = pytest.mark.django_db

CALIBRATION = [
    {
        "typing_speed_wpm": 40,
        "key_hold_ms": 100,
        "key_latency_ms": 200,
        "mouse_speed_pxs": 300,
        "avg_question_time_sec": 60,
    },
    {
        "typing_speed_wpm": 44,
        "key_hold_ms": 105,
        "key_latency_ms": 210,
        "mouse_speed_pxs": 320,
        "avg_question_time_sec": 66,
    },
    {
        "typing_speed_wpm": 36,
        "key_hold_ms": 95,
        "key_latency_ms": 190,
        "mouse_speed_pxs": 280,
        "avg_question_time_sec": 54,
    },
]
LIKE_BASELINE = [
    ("typing_sample", {"wpm": 41, "hold_ms_mean": 101, "latency_ms_mean": 202}),
    ("mouse_sample", {"speed_pxs": 305}),
    ("question_answered", {"question_id": "q1", "time_spent_sec": 61}),
]
UNLIKE_BASELINE = [
    ("typing_sample", {"wpm": 95, "hold_ms_mean": 40, "latency_ms_mean": 90}),
    ("mouse_sample", {"speed_pxs": 40}),
    ("question_answered", {"question_id": "q1", "time_spent_sec": 5}),
]


@pytest.fixture
def model_dir(settings, tmp_path):
    settings.EXAMPULSE = {**settings.EXAMPULSE, "MODEL_DIR": str(tmp_path / "models")}
    return tmp_path / "models"


def _session(user, proctor, **exam_fields) -> ExamSession:
    """A session as session_start makes it: the applied accommodations and the baseline frozen at its start."""
    exam = Exam.objects.create(name="Bridge exam", duration_minutes=30, created_by=proctor, **exam_fields)
    now = timezone.now()
    return ExamSession.objects.create(
        exam=exam,
        user=user,
        started_at=now,
        deadline_at=now + timedelta(minutes=30),
        accommodations=accommodations_applied(exam=exam, user=user),
        baseline_snapshot=baseline_snapshot(user=user),
    )


def _calibrate(user) -> None:
    for sample in CALIBRATION:
        baseline_add_sample(user=user, sample=sample)


def test_context_carries_exam_policy_and_student_exemptions(student, proctor, model_dir):
    student.accommodations = {"exempt_signals": ["typing", "focus"]}
    student.save()
    session = _session(student, proctor, allow_tab_switch=True, allow_copy_paste=True, monitoring_sensitivity="high")
    context = scoring_context_for(session)
    assert context.policy.allow_tab_switch is True
    assert context.policy.allow_copy_paste is True
    assert context.policy.sensitivity == "high"
    assert context.policy.exempt_signals == frozenset({"typing", "focus"})
    assert context.baseline is None
    assert context.detector is None
    assert context.population is None


def test_without_baseline_only_baseline_free_signals_score_and_anomaly_says_why(student, proctor, model_dir):
    session = _session(student, proctor)
    behaviour = fold_all([*UNLIKE_BASELINE, *[("tab_switch", {})] * 11])
    result = session_score(context=scoring_context_for(session), behaviour=behaviour)
    assert result.risk.risk_score == 0.3
    assert result.risk.component("typing").reason == "no baseline yet"
    assert result.anomaly_score is None
    assert result.anomaly_explanation == "no baseline yet"
    assert result.is_anomalous is False
    assert result.population_explanation == "no population model trained"


def test_collecting_baseline_does_not_fit_a_detector(student, proctor, model_dir):
    baseline_add_sample(user=student, sample=CALIBRATION[0])
    session = _session(student, proctor)
    result = session_score(context=scoring_context_for(session), behaviour=fold_all(UNLIKE_BASELINE))
    assert result.anomaly_score is None
    assert result.anomaly_explanation == "anomaly detector: needs 3 samples, has 1"


def test_behaviour_like_the_baseline_is_not_anomalous(student, proctor, model_dir):
    _calibrate(student)
    session = _session(student, proctor)
    result = session_score(context=scoring_context_for(session), behaviour=fold_all(LIKE_BASELINE))
    assert result.anomaly_score < 1.0
    assert result.is_anomalous is False
    assert result.anomaly_explanation.startswith("behaviour consistent with the student's baseline")
    assert result.risk.risk_score == 0.0


def test_behaviour_unlike_the_baseline_is_flagged_with_its_own_explanation(student, proctor, model_dir):
    _calibrate(student)
    session = _session(student, proctor)
    result = session_score(context=scoring_context_for(session), behaviour=fold_all(UNLIKE_BASELINE))
    assert result.is_anomalous is True
    assert result.anomaly_score > result.anomaly_threshold
    assert result.anomaly_explanation.startswith("behaviour unlike the student's baseline")
    assert "robust SDs" in result.anomaly_explanation
    # The rule formula is untouched by the detector: typing 0.9, mouse 0.7 (r < 0.3), answers 0.8.
    assert result.risk.risk_score == round(0.2 * 0.9 + 0.15 * 0.7 + 0.2 * 0.8, 4)


def test_apply_score_writes_every_risk_field_and_the_behaviour(student, proctor, model_dir):
    _calibrate(student)
    session = _session(student, proctor)
    behaviour = fold_all([*UNLIKE_BASELINE, ("tab_switch", {}), ("tab_switch", {})])
    result = session_score(context=scoring_context_for(session), behaviour=behaviour)
    session_apply_score(session_id=session.pk, behaviour=behaviour, result=result)
    session.refresh_from_db()
    assert session.risk_score == result.risk.risk_score == 0.595
    assert session.risk_level == "medium"
    assert session.integrity_score == 41  # round half up of 40.5
    assert session.anomaly_score == result.anomaly_score
    assert session.behaviour == behaviour
    stored = session.risk_components
    assert stored["components"]["tab_switch"]["reason"] == "2 tab switches, between 2 and 4"
    assert stored["components"]["typing"]["value"] == 0.9
    assert stored["anomaly"]["is_anomalous"] is True
    assert stored["alert_threshold"] == 0.7


def test_the_newest_population_model_is_used_when_one_is_trained(student, proctor, model_dir):
    session = _session(student, proctor)
    rng = np.random.default_rng(0)
    rows = np.column_stack(
        [
            rng.normal(45, 5, 40),
            rng.normal(100, 10, 40),
            rng.normal(200, 20, 40),
            rng.normal(300, 30, 40),
            rng.normal(60, 10, 40),
            rng.integers(0, 2, 40),
            rng.normal(5, 2, 40),
            np.zeros(40),
        ]
    )
    assert rows.shape[1] == len(FEATURES)
    population_model_save(model=train(rows))
    context = scoring_context_for(session)
    assert context.population is not None
    ordinary = session_score(context=context, behaviour=fold_all(LIKE_BASELINE))
    odd = session_score(context=context, behaviour=fold_all([*UNLIKE_BASELINE, *[("tab_switch", {})] * 30]))
    assert ordinary.population_score < odd.population_score
    assert odd.population_outlier is True
    assert odd.population_version == context.population.metadata["version"]
    assert odd.population_explanation.startswith("unusual among past sessions")


def test_the_context_is_shared_until_the_exam_policy_changes_and_a_later_baseline_change_does_not_touch_it(
    student, proctor, model_dir
):
    _calibrate(student)
    session = _session(student, proctor)
    first = scoring_context_for(session)
    assert scoring_context_for(ExamSession.objects.select_related("exam", "user").get(pk=session.pk)) is first
    baseline_add_sample(user=student, sample=CALIBRATION[0])
    after_sample = scoring_context_for(ExamSession.objects.select_related("exam", "user").get(pk=session.pk))
    # The session keeps the baseline it started with; a session started now sees the new one.
    assert after_sample is first and after_sample.baseline.sample_count == 3
    assert scoring_context_for(_session(student, proctor)).baseline.sample_count == 4
    session.exam.allow_tab_switch = True
    assert scoring_context_for(session).policy.allow_tab_switch is True
