"""Demo activity, population-model training and its use by the scorer, end to end on demo-shaped data."""

from __future__ import annotations

import json
import shutil
import subprocess
from datetime import timedelta
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from exams.authoring import exam_is_open
from exams.models import Exam, ExamSession, ExamStatus
from monitoring.demo.management.commands.seed_demo_activity import past_exam_names
from monitoring.demo.seed import DEMO_PROCTOR_EMAIL
from monitoring.ingest.risk import scoring_context_for
from monitoring.models import Alert, Event
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
    exam = Exam.objects.create(
        name="Demo exam", duration_minutes=45, total_questions=8, created_by=proctor, status=ExamStatus.ACTIVE
    )
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


def test_seed_demo_activity_seeds_past_exams_once_and_leaves_the_open_exams_untaken(demo, model_dir):
    _exam, students = demo
    first = _call("seed_demo_activity")
    assert "Seeded 24 past session(s) (4 cheating-like" in first
    # The live exam and the calibration exam stay takeable: the product allows one attempt each.
    assert not ExamSession.objects.filter(exam__status=ExamStatus.ACTIVE).exists()
    past = Exam.objects.filter(name__in=past_exam_names())
    assert past.count() == 6
    assert all(e.status == ExamStatus.COMPLETED and not exam_is_open(exam=e) for e in past)
    sessions = ExamSession.objects.filter(exam__in=past)
    assert sessions.count() == 24
    # One attempt per student and exam, as the product itself allows.
    assert sessions.values("exam", "user").distinct().count() == 24
    assert all(s.status in {"submitted", "flagged"} and s.behaviour.get("events") for s in sessions)
    assert all(s.started_at < timezone.now() - timedelta(days=1) for s in sessions)
    # Risk comes from the scorer: the cheating-like attempt (one per student, answering far faster
    # than the student's baseline) stands out, the rest stay low.
    cheating = [s for s in sessions if s.risk_components["components"]["answer_speed"]["value"] > 0]
    assert len(cheating) == 4
    assert {s.user_id for s in cheating} == {s.pk for s in students}
    assert len({s.exam_id for s in cheating}) == 4, "spread over the past exams"
    assert all(s.risk_level != "low" for s in cheating)
    honest = [s for s in sessions if s not in cheating]
    assert all(s.risk_level == "low" and s.status == "submitted" for s in honest)
    # Each student's detector finds the cheating-like session further from the baseline than any honest one.
    for student in students:
        mine = [s.anomaly_score for s in honest if s.user_id == student.pk]
        (odd,) = [s.anomaly_score for s in cheating if s.user_id == student.pk]
        assert odd > max(mine)
    # The alerts the live path would have raised; an unresolved high-risk one leaves the session flagged.
    alerts = Alert.objects.filter(session__in=sessions)
    assert alerts.exists()
    assert {a.session_id for a in alerts} <= {s.pk for s in cheating}
    for session in cheating:
        threshold_alerts = session.alerts.filter(alert_type="risk_threshold").count()
        assert session.open_high_alerts == threshold_alerts
        assert session.status == ("flagged" if threshold_alerts else "submitted")
    for student in students:
        assert Baseline.objects.get(user=student).sample_count >= 5
    # Honest attempts glance at another tab now and then: two or more switches are a little risk,
    # still low, so the history is not a wall of 0.00.
    glanced = [s for s in honest if s.behaviour["tab_switches"] >= 2]
    assert len(glanced) >= len(honest) / 3
    assert all(s.risk_score > 0 for s in glanced)
    counts = (Exam.objects.count(), Event.objects.count(), Alert.objects.count())

    second = _call("seed_demo_activity")
    assert "Seeded 0 past session(s)" in second
    assert "24 already present" in second
    assert ExamSession.objects.count() == 24
    assert (Exam.objects.count(), Event.objects.count(), Alert.objects.count()) == counts


def test_seeded_history_is_what_its_events_say_and_rescore_changes_nothing(demo, model_dir):
    _call("seed_demo_activity")
    sessions = list(ExamSession.objects.all())
    assert len(sessions) == 24
    for session in sessions:
        # Scored against the baseline frozen at its start, like a live session (not today's baseline).
        assert session.baseline_snapshot.get("taken_at")
        scored = Event.objects.filter(session=session, is_technical=False)
        assert session.flagged_incidents_count == scored.filter(severity__in=["medium", "high"]).count()
        assert session.behaviour["events"] == scored.count()
        # The chart's last point is the header's risk.
        assert scored.order_by("timestamp", "id").last().risk_score_after == session.risk_score
    # Every tab switch is an incident (medium): the sessions that switched, flagged ones included, count them.
    switched = [s for s in sessions if s.behaviour["tab_switches"]]
    assert switched and all(s.flagged_incidents_count >= s.behaviour["tab_switches"] for s in switched)
    before = {s.pk: (s.risk_score, s.risk_level, s.flagged_incidents_count) for s in sessions}

    output = _call("rescore")
    assert "Rescored 24 session(s): 0 score(s) and 0 level(s) changed." in output
    assert "Flagged-incident counts (events of medium or high severity): 0 changed." in output
    after = {s.pk: (s.risk_score, s.risk_level, s.flagged_incidents_count) for s in ExamSession.objects.all()}
    assert after == before


def test_seed_demo_activity_frees_the_open_exam_from_an_older_seed(demo, model_dir):
    exam, students = demo
    # What the older command left behind: submitted attempts with seed-marked events on the live exam.
    stale = ExamSession.objects.create(
        exam=exam,
        user=students[0],
        started_at=timezone.now() - timedelta(days=3),
        deadline_at=timezone.now() - timedelta(days=3) + timedelta(minutes=45),
        status="submitted",
    )
    Event.objects.create(
        session=stale, event_type="tab_switch", timestamp=stale.started_at, client_event_id=f"seed-{exam.pk}-1-0-0"
    )
    # A real attempt (no seed marker) is never touched.
    real = ExamSession.objects.create(
        exam=exam, user=students[1], started_at=timezone.now(), deadline_at=timezone.now() + timedelta(minutes=45)
    )
    Event.objects.create(session=real, event_type="tab_switch", timestamp=real.started_at, client_event_id="client-1")

    output = _call("seed_demo_activity")
    assert "Removed 1 session(s)" in output
    assert list(ExamSession.objects.filter(exam=exam)) == [real]


def test_training_refuses_too_few_sessions_and_writes_nothing(demo, model_dir):
    _call("seed_demo_activity", "--exams", "2")
    with pytest.raises(CommandError, match=r"Too few completed sessions .*: 8, need at least 20"):
        _call("train_risk_model")
    assert not model_dir.exists() or not any(model_dir.iterdir())
    assert population_model() is None


def test_trained_model_is_saved_versioned_with_metadata_and_used_by_the_scorer(demo, model_dir):
    _call("seed_demo_activity")
    output = _call("train_risk_model")
    assert "Trained population model" in output
    models = sorted(model_dir.glob("population-*.joblib"))
    assert len(models) == 1
    meta = json.loads(models[0].with_suffix(".json").read_text())
    assert meta["sample_count"] == 24
    assert meta["features"] == list(FEATURES)
    assert meta["sklearn_version"]
    assert meta["trained_at"]

    session = ExamSession.objects.first()
    context = scoring_context_for(session)
    assert context.population is not None
    assert context.population.metadata["version"] == meta["version"]

    # Rescore now fills in the population view for every demo session; the rule scores do not move.
    rescored = _call("rescore")
    assert "Rescored 24 session(s): 0 score(s) and 0 level(s) changed." in rescored
    session.refresh_from_db()
    assert session.risk_components["population"]["version"] == meta["version"]
    assert session.risk_components["population"]["score"] is not None


def test_if_missing_trains_once_and_a_plain_run_adds_a_version(demo, model_dir):
    _call("seed_demo_activity")
    assert "Trained population model" in _call("train_risk_model", "--if-missing")
    skipped = _call("train_risk_model", "--if-missing")
    assert "A population model exists" in skipped and "not training" in skipped
    assert len(list(model_dir.glob("population-*.joblib"))) == 1
    _call("train_risk_model")
    assert len(list(model_dir.glob("population-*.joblib"))) == 2


def test_make_run_trains_only_when_no_model_exists_unless_asked():
    """`make run` (through `seed`) asks for --if-missing, so var/models does not grow per start;
    `make retrain` trains a new version. The live-server tests read the same recipe (make_seed_steps)."""
    make = shutil.which("make")
    if make is None:
        pytest.skip("no make on this machine")

    def dry_run(*args: str) -> str:
        root = Path(__file__).resolve().parents[2]
        result = subprocess.run(  # noqa: S603 - our own Makefile, dry run (-n): nothing is executed
            [make, "-n", *args], cwd=root, capture_output=True, text=True, check=True
        )
        return result.stdout

    plain, forced = dry_run("seed"), dry_run("retrain")
    assert "manage.py train_risk_model --if-missing" in plain
    assert "manage.py train_risk_model" in forced and "--if-missing" not in forced
    # The live-server tests seed what `make seed` runs, read from this recipe.
    from tests.support.live import make_seed_steps

    assert ("train_risk_model", "--if-missing") in make_seed_steps()
