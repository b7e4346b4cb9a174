"""Demo activity, population-model training and its use by the scorer, end to end on demo-shaped data."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from exams.demo import DEMO_PROCTOR_EMAIL
from exams.models import Exam, ExamSession
from monitoring.ingest.risk import scoring_context_for
from monitoring.models import Event
from scoring.models import Baseline
from scoring.population import FEATURES
from scoring.services import population_model
from tests.factories import ProctorFactory, StudentFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def model_dir(settings, tmp_path):
    settings.EXAMPULSE = {**settings.EXAMPULSE, "MODEL_DIR": str(tmp_path / "models")}
    return tmp_path / "models"


@pytest.fixture
def demo(db):
    proctor = ProctorFactory(email=DEMO_PROCTOR_EMAIL)
    exam = Exam.objects.create(name="Demo exam", duration_minutes=45, total_questions=8, created_by=proctor)
    Exam.objects.create(name="Calibration", duration_minutes=10, created_by=proctor, is_calibration=True)
    students = [StudentFactory(email=f"student{i}@exampulse.ai") for i in range(4)]
    return exam, students


def _call(name: str, *args) -> str:
    out = StringIO()
    call_command(name, *args, stdout=out)
    return out.getvalue()


def test_seed_demo_activity_without_demo_data_says_so_and_succeeds(model_dir):
    assert "No demo data found" in _call("seed_demo_activity")
    assert not ExamSession.objects.exists()


def test_seed_demo_activity_creates_scored_sessions_once(demo, model_dir):
    exam, students = demo
    first = _call("seed_demo_activity", "--sessions", "6")
    assert "Seeded 24 past session(s)" in first
    sessions = ExamSession.objects.filter(exam=exam)
    assert sessions.count() == 24
    assert all(s.status == "submitted" and s.behaviour.get("events") for s in sessions)
    # Risk comes from the scorer: the cheating-like sixth (one per student) stands out, the rest stay low.
    cheating = [s for s in sessions if s.behaviour["tab_switches"] >= 2]
    assert len(cheating) == 4
    assert {s.user_id for s in cheating} == {s.pk for s in students}
    assert all(s.risk_level != "low" for s in cheating)
    honest = [s for s in sessions if s not in cheating]
    assert all(s.risk_level == "low" for s in honest)
    # Each student's detector finds the cheating-like session further from the baseline than any honest one.
    for student in students:
        mine = [s.anomaly_score for s in honest if s.user_id == student.pk]
        (odd,) = [s.anomaly_score for s in cheating if s.user_id == student.pk]
        assert odd > max(mine)
    assert not ExamSession.objects.filter(exam__is_calibration=True).exists()
    for student in students:
        assert Baseline.objects.get(user=student).sample_count >= 5
    events = Event.objects.count()

    second = _call("seed_demo_activity", "--sessions", "6")
    assert "Seeded 0 past session(s)" in second
    assert "24 already present" in second
    assert ExamSession.objects.count() == 24
    assert Event.objects.count() == events


def test_training_refuses_too_few_sessions_and_writes_nothing(demo, model_dir):
    _call("seed_demo_activity", "--sessions", "2")
    with pytest.raises(CommandError, match=r"Too few completed sessions .*: 8, need at least 20"):
        _call("train_risk_model")
    assert not model_dir.exists() or not any(model_dir.iterdir())
    assert population_model() is None


def test_trained_model_is_saved_versioned_with_metadata_and_used_by_the_scorer(demo, model_dir):
    exam, _ = demo
    _call("seed_demo_activity", "--sessions", "6")
    output = _call("train_risk_model")
    assert "Trained population model" in output
    models = sorted(model_dir.glob("population-*.joblib"))
    assert len(models) == 1
    meta = json.loads(models[0].with_suffix(".json").read_text())
    assert meta["sample_count"] == 24
    assert meta["features"] == list(FEATURES)
    assert meta["sklearn_version"]
    assert meta["trained_at"]

    session = ExamSession.objects.filter(exam=exam).first()
    context = scoring_context_for(session)
    assert context.population is not None
    assert context.population.metadata["version"] == meta["version"]

    # Rescore now fills in the population view for every demo session; the rule scores do not move.
    rescored = _call("rescore", "--exam", str(exam.pk))
    assert "Rescored 24 session(s): 0 score(s) and 0 level(s) changed." in rescored
    session.refresh_from_db()
    assert session.risk_components["population"]["version"] == meta["version"]
    assert session.risk_components["population"]["score"] is not None
