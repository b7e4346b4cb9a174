"""`manage.py seed_demo_activity`: past exams of their own, each taken once by every demo student.

The history lives on closed exams (status completed, scheduled days ago) so the exams a newcomer
can still take — the live demo quiz and the calibration exam — stay untaken: the product allows
one attempt per student and exam, and a seeded attempt on the live quiz would turn every demo
student away from it with a 409.

Each past session gets synthetic events (an honest attempt now and then glances at another tab
for a few seconds), the accommodations and baseline snapshot a live start would have frozen, risk
and flagged-incident count from the same `session_rescore` a rescore uses (so `manage.py rescore`
afterwards changes nothing), and, where the risk reaches the exam's threshold, the alert the live
path would have raised, so the admin, the dashboard and `train_risk_model` have something real to
work on.

Idempotent: a past exam is created only when missing (by name) and a student's session only when
they have none on that exam, so a second run adds nothing.
"""

from __future__ import annotations

from datetime import timedelta

import numpy as np
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from accounts.models import Role, User
from exams.accommodations import accommodations_applied
from exams.authoring import exam_create
from exams.models import Exam, ExamSession, ExamStatus
from exams.statuses import Move, State, session_move
from monitoring.demo.seed import DEMO_PROCTOR_EMAIL
from monitoring.ingest.risk import session_rescore
from monitoring.ingest.services import alert_raise
from monitoring.models import Alert, Event
from scoring.alerts import ANOMALY_ALERT, THRESHOLD_ALERT
from scoring.anomaly import ANOMALY_THRESHOLD, SESSION_FEATURES
from scoring.engine import alert_threshold
from scoring.models import BASELINE_READY_SAMPLES
from scoring.population import MIN_TRAINING_SESSIONS
from scoring.services import baseline_add_sample, baseline_get, baseline_snapshot
from scoring.severity import severity_for
from scoring.synthetic import event_stream, random_profile

DEMO_DOMAIN = DEMO_PROCTOR_EMAIL.split("@", 1)[1]
CALIBRATION_SAMPLES = 5
# Seeded events carry this prefix in client_event_id; nothing else writes it, so it marks seeded data.
SEED_EVENT_PREFIX = "seed-"

# name, days ago, sensitivity. Six exams times the four demo students = 24 sessions, above the
# population model's minimum (MIN_TRAINING_SESSIONS, checked below) so `make seed` can train.
PAST_EXAMS: list[tuple[str, int, str]] = [
    ("Past: Algebra Basics", 30, "medium"),
    ("Past: World Geography", 25, "medium"),
    ("Past: Intro to Chemistry", 20, "high"),
    ("Past: English Comprehension", 15, "medium"),
    ("Past: Physics Fundamentals", 10, "medium"),
    ("Past: Computer Science Quiz", 5, "high"),
]
PAST_EXAM_QUESTIONS = 8
PAST_EXAM_MINUTES = 30
# How many times an honest attempt looks at another tab, each for GLANCE_MS, in turn over a student's
# attempts: never, once, twice, three times (two or more is a little risk, still low), so the
# history is not a wall of 0.00.
HONEST_GLANCES = (0, 1, 2, 3)
GLANCE_MS = (3_000, 25_000)


def past_exam_names() -> list[str]:
    return [name for name, _days, _sensitivity in PAST_EXAMS]


def demo_students():
    """The students seed_demo created: those on the demo proctor's email domain."""
    return User.objects.filter(role=Role.STUDENT, email__iendswith=f"@{DEMO_DOMAIN}").order_by("id")


def _questions(name: str) -> list[dict]:
    """Placeholder mcq questions: nobody takes a closed exam again, but grading and the admin need some."""
    return [
        {
            "id": f"q{n}",
            "text": f"{name.removeprefix('Past: ')}, question {n}",
            "type": "mcq",
            "options": ["A", "B"],
            "answer": "A",
        }
        for n in range(1, PAST_EXAM_QUESTIONS + 1)
    ]


def _past_exam(*, proctor: User, name: str, days_ago: int, sensitivity: str) -> tuple[Exam, bool]:
    """The closed exam of that name, created (completed, scheduled days ago) when missing."""
    existing = Exam.objects.filter(name=name, created_by=proctor).first()
    if existing is not None:
        return existing, False
    day = timezone.now().replace(hour=9, minute=0, second=0, microsecond=0) - timedelta(days=days_ago)
    exam = exam_create(
        by=proctor,
        data={
            "name": name,
            "description": "A past exam with seeded sessions: closed, kept for review and model training.",
            "duration_minutes": PAST_EXAM_MINUTES,
            "monitoring_sensitivity": sensitivity,
            "scheduled_date": day,
            "status": ExamStatus.COMPLETED,
            "questions": _questions(name),
        },
        via="command",
    )
    return exam, True


def _profile(student: User) -> dict[str, float]:
    """A stable behaviour profile per student, centred on their baseline means when they have some."""
    rng = np.random.default_rng(student.pk)
    profile = random_profile(rng)
    baseline = baseline_get(user=student)
    if baseline is not None:
        for field in ("typing_speed_wpm", "mouse_speed_pxs", "avg_question_time_sec"):
            if getattr(baseline, field):
                profile[field] = float(getattr(baseline, field))
    return profile


def _calibrate(student: User, profile: dict[str, float]) -> int:
    """Give a student without a ready baseline calibration samples (with keystroke timings) from their profile."""
    baseline = baseline_get(user=student)
    stored = baseline.sample_count if baseline else 0
    if stored >= BASELINE_READY_SAMPLES:
        return 0
    missing = CALIBRATION_SAMPLES - stored
    rng = np.random.default_rng(10_000 + student.pk)
    noise = {"typing_speed_wpm": 0.1, "key_hold_ms": 0.08, "key_latency_ms": 0.1, "mouse_speed_pxs": 0.2}
    noise["avg_question_time_sec"] = 0.25
    for _ in range(max(missing, 0)):
        sample = {name: round(profile[name] * float(rng.lognormal(0, noise[name])), 2) for name in SESSION_FEATURES}
        sample["tab_switch_rate"] = 0.0
        baseline_add_sample(user=student, sample=sample, via="manage.py seed_demo_activity (synthetic)")
    return max(missing, 0)


def _raise_alerts(session: ExamSession, at) -> int:
    """The alerts the live path would have raised on this session's final risk, dated when it ended."""
    raised: list[Alert] = []
    if session.risk_score >= alert_threshold(session.exam.monitoring_sensitivity):
        raised.append(
            alert_raise(
                session=session,
                alert_type=THRESHOLD_ALERT,
                risk_score=session.risk_score,
                risk_level=session.risk_level,
                severity="high" if session.risk_level == "high" else "medium",
                message=f"Risk {session.risk_score:.2f} ({session.risk_level}) in a seeded past session",
                components=session.risk_components.get("components", {}),
                notify=False,  # seeded history: no webhook or email about a past session
            )
        )
    if session.anomaly_score is not None and session.anomaly_score > ANOMALY_THRESHOLD:
        raised.append(
            alert_raise(
                session=session,
                alert_type=ANOMALY_ALERT,
                risk_score=session.risk_score,
                risk_level=session.risk_level,
                severity="medium",
                message=session.risk_components.get("anomaly", {}).get("explanation")
                or f"Behaviour unlike the student's baseline (anomaly score {session.anomaly_score:.1f})",
                components={"anomaly_score": session.anomaly_score},
                notify=False,
            )
        )
    if raised:
        Alert.objects.filter(pk__in=[a.pk for a in raised]).update(created_at=at)
    return len(raised)


def _with_glances(rng: np.random.Generator, events: list[tuple[str, dict]], *, glances: int) -> list[tuple[str, dict]]:
    """An honest attempt's few short looks at another tab, each after a question it answered."""
    answered = [i for i, (event_type, _data) in enumerate(events) if event_type == "question_answered"]
    after = set(rng.choice(answered, size=min(glances, len(answered)), replace=False).tolist()) if answered else set()
    out: list[tuple[str, dict]] = []
    for i, event in enumerate(events):
        out.append(event)
        if i in after:
            away = int(rng.integers(*GLANCE_MS))
            out += [("tab_switch", {}), ("window_blur", {}), ("window_focus", {"blur_duration_ms": away})]
    return out


@transaction.atomic
def _seed_session(
    *, exam: Exam, student: User, profile: dict[str, float], cheating: bool, glances: int = 0
) -> tuple[ExamSession, int]:
    rng = np.random.default_rng([exam.pk, student.pk])
    started = exam.scheduled_date + timedelta(minutes=int(rng.integers(0, 20)))
    events = list(event_stream(rng, profile=profile, cheating=cheating, questions=exam.total_questions))
    if not cheating:
        events = _with_glances(rng, events, glances=glances)
    step = timedelta(seconds=max(1.0, exam.duration_minutes * 60 * 0.8 / max(len(events), 1)))
    submitted = started + step * (len(events) + 1)
    session = ExamSession.objects.create(
        exam=exam,
        user=student,
        started_at=started,
        deadline_at=started + timedelta(minutes=exam.duration_minutes),
        submitted_at=submitted,
        time_taken_seconds=int((submitted - started).total_seconds()),
        # Open until its alerts are raised, then ended through the lifecycle's table (below).
        last_event_at=started + step * len(events),
        # What a live start freezes (exams.sessions.session_start): a rescore scores against these.
        course_at_start_id=exam.course_id,
        accommodations=accommodations_applied(exam=exam, user=student),
        baseline_snapshot=baseline_snapshot(user=student, at=started),
    )
    Event.objects.bulk_create(
        Event(
            session=session,
            event_type=event_type,
            event_data=data,
            timestamp=started + step * (i + 1),
            client_event_id=f"{SEED_EVENT_PREFIX}{exam.pk}-{student.pk}-{i}",
            severity=severity_for(
                event_type, data, allow_tab_switch=exam.allow_tab_switch, allow_copy_paste=exam.allow_copy_paste
            ),
        )
        for i, (event_type, data) in enumerate(events)
    )
    # Risk, each event's risk after it and the flagged-incident count, all from the stored events.
    session_rescore(session=session)
    session.refresh_from_db()
    alerts = _raise_alerts(session, session.last_event_at)
    # As on the live path: a session that ends with an unresolved high-risk alert ends flagged.
    session.refresh_from_db(fields=["open_high_alerts"])
    ended = State.FLAGGED if session.open_high_alerts > 0 else State.SUBMITTED
    session_move(session, Move.SUBMIT, to=ended, at=submitted)
    session.save(update_fields=["status"])
    return session, alerts


def _release_open_exams(proctor: User) -> int:
    """Delete sessions an older version of this command seeded on exams that are still open.

    Older seeds put six attempts per student on the live demo quiz, which left no student able
    to take it. Only sessions whose events carry the seed marker go: nothing a person did.
    """
    stale = (
        ExamSession.objects.filter(exam__created_by=proctor, exam__status=ExamStatus.ACTIVE)
        .filter(events__client_event_id__startswith=SEED_EVENT_PREFIX)
        .distinct()
    )
    ids = list(stale.values_list("pk", flat=True))
    if ids:
        ExamSession.objects.filter(pk__in=ids).delete()
    return len(ids)


class Command(BaseCommand):
    help = (
        "Seed past (closed) demo exams, each taken once by every demo student, with synthetic events "
        "(normal and a few cheating-like), risk and alerts. Safe to rerun."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--exams",
            type=int,
            default=len(PAST_EXAMS),
            help=f"How many past exams to seed, at most {len(PAST_EXAMS)} (default all).",
        )

    def handle(self, *args, exams: int, **options):
        proctor = User.objects.filter(email__iexact=DEMO_PROCTOR_EMAIL).first()
        students = list(demo_students())
        if proctor is None or not students:
            self.stdout.write(
                f"No demo data found (proctor {DEMO_PROCTOR_EMAIL}: {'yes' if proctor else 'missing'}, "
                f"{len(students)} student(s) @{DEMO_DOMAIN}). Run `manage.py seed_demo` first; nothing to do."
            )
            return
        chosen = PAST_EXAMS[: max(0, min(exams, len(PAST_EXAMS)))]
        released = _release_open_exams(proctor)
        created_exams = created = skipped = calibrated = cheating_count = alerts = 0
        past = []
        for name, days_ago, sensitivity in chosen:
            exam, new = _past_exam(proctor=proctor, name=name, days_ago=days_ago, sensitivity=sensitivity)
            past.append(exam)
            created_exams += new
        for position, student in enumerate(students):
            profile = _profile(student)
            calibrated += _calibrate(student, profile)
            for index, exam in enumerate(past):
                if ExamSession.objects.filter(exam=exam, user=student).exists():
                    skipped += 1
                    continue
                # One cheating-like attempt per student, on a different past exam for each.
                cheating = index == (len(past) - 1 - position) % len(past)
                glances = HONEST_GLANCES[(position + index) % len(HONEST_GLANCES)]
                _session, raised = _seed_session(
                    exam=exam, student=student, profile=profile, cheating=cheating, glances=glances
                )
                created += 1
                cheating_count += cheating
                alerts += raised
        total = created + skipped
        self.stdout.write(
            self.style.SUCCESS(
                f"Seeded {created} past session(s) ({cheating_count} cheating-like, {alerts} alert(s)) for "
                f"{len(students)} student(s) on {len(past)} past exam(s) ({created_exams} new); "
                f"{skipped} already present; {calibrated} calibration sample(s) added."
            )
        )
        if released:
            self.stdout.write(f"Removed {released} session(s) an older seed had put on exams that are still open.")
        if total < MIN_TRAINING_SESSIONS:
            self.stdout.write(f"{total} past session(s): `train_risk_model` needs at least {MIN_TRAINING_SESSIONS}.")
