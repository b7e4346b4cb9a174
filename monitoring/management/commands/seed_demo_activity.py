"""`manage.py seed_demo_activity`: past, submitted sessions with synthetic events for the demo exams and students.

Idempotent: every seeded event carries a `seed-...` client_event_id, and a session whose first
event already exists is skipped. Risk is computed by the same `session_rescore` the live data gets,
so `train_risk_model` and `rescore` have something real to work on.
"""

from __future__ import annotations

from datetime import timedelta

import numpy as np
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from accounts.models import Role, User
from exams.demo import DEMO_PROCTOR_EMAIL
from exams.models import Exam, ExamSession, SessionStatus
from monitoring.ingest.risk import session_rescore
from monitoring.ingest.severity import severity_for
from monitoring.models import Event
from scoring.anomaly import SESSION_FEATURES
from scoring.models import BASELINE_READY_SAMPLES
from scoring.services import baseline_add_sample, baseline_get
from scoring.synthetic import event_stream, random_profile

DEMO_DOMAIN = DEMO_PROCTOR_EMAIL.split("@", 1)[1]
CALIBRATION_SAMPLES = 5
# Every sixth seeded session behaves like cheating: a few, spread over students, the same on every run.
CHEATING_EVERY = 6


def demo_exams():
    """The exams seed_demo created: the demo proctor's, calibration exams left out."""
    return Exam.objects.filter(created_by__email__iexact=DEMO_PROCTOR_EMAIL, is_calibration=False).order_by("id")


def demo_students():
    """The students seed_demo created: those on the demo proctor's email domain."""
    return User.objects.filter(role=Role.STUDENT, email__iendswith=f"@{DEMO_DOMAIN}").order_by("id")


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
    stored = len(baseline.features.get("samples", [])) if baseline else 0
    if stored >= BASELINE_READY_SAMPLES:
        return 0
    missing = CALIBRATION_SAMPLES - stored
    rng = np.random.default_rng(10_000 + student.pk)
    noise = {"typing_speed_wpm": 0.1, "key_hold_ms": 0.08, "key_latency_ms": 0.1, "mouse_speed_pxs": 0.2}
    noise["avg_question_time_sec"] = 0.25
    for _ in range(max(missing, 0)):
        sample = {name: round(profile[name] * float(rng.lognormal(0, noise[name])), 2) for name in SESSION_FEATURES}
        sample["tab_switch_rate"] = 0.0
        baseline_add_sample(user=student, sample=sample)
    return max(missing, 0)


@transaction.atomic
def _seed_session(*, exam: Exam, student: User, index: int, profile: dict[str, float], cheating: bool) -> ExamSession:
    rng = np.random.default_rng([exam.pk, student.pk, index])
    started = timezone.now() - timedelta(days=2 + index, hours=int(rng.integers(0, 8)))
    events = list(event_stream(rng, profile=profile, cheating=cheating, questions=max(exam.total_questions, 8)))
    step = timedelta(seconds=max(1.0, exam.duration_minutes * 60 * 0.8 / max(len(events), 1)))
    submitted = started + step * (len(events) + 1)
    session = ExamSession.objects.create(
        exam=exam,
        user=student,
        started_at=started,
        deadline_at=started + timedelta(minutes=exam.duration_minutes),
        submitted_at=submitted,
        time_taken_seconds=int((submitted - started).total_seconds()),
        status=SessionStatus.SUBMITTED,
        last_event_at=started + step * len(events),
    )
    Event.objects.bulk_create(
        Event(
            session=session,
            event_type=event_type,
            event_data=data,
            timestamp=started + step * (i + 1),
            client_event_id=f"seed-{exam.pk}-{student.pk}-{index}-{i}",
            severity=severity_for(
                event_type, data, allow_tab_switch=exam.allow_tab_switch, allow_copy_paste=exam.allow_copy_paste
            ),
        )
        for i, (event_type, data) in enumerate(events)
    )
    session_rescore(session=session)
    return session


class Command(BaseCommand):
    help = "Seed past, submitted demo sessions with synthetic events (normal and a few cheating-like) and score them."

    def add_arguments(self, parser):
        parser.add_argument("--sessions", type=int, default=6, help="Past sessions per student and exam (default 6).")

    def handle(self, *args, sessions: int, **options):
        exams = list(demo_exams())
        students = list(demo_students())
        if not exams or not students:
            self.stdout.write(
                f"No demo data found ({len(exams)} demo exam(s) by {DEMO_PROCTOR_EMAIL}, {len(students)} student(s) "
                f"@{DEMO_DOMAIN}). Run `manage.py seed_demo` first; nothing to do."
            )
            return
        created = skipped = calibrated = cheating_count = 0
        for position, student in enumerate(students):
            profile = _profile(student)
            calibrated += _calibrate(student, profile)
            for exam in exams:
                for index in range(max(sessions, 0)):
                    if Event.objects.filter(client_event_id=f"seed-{exam.pk}-{student.pk}-{index}-0").exists():
                        skipped += 1
                        continue
                    cheating = (position * sessions + index) % CHEATING_EVERY == CHEATING_EVERY - 1
                    _seed_session(exam=exam, student=student, index=index, profile=profile, cheating=cheating)
                    created += 1
                    cheating_count += cheating
        self.stdout.write(
            self.style.SUCCESS(
                f"Seeded {created} past session(s) ({cheating_count} cheating-like) for {len(students)} student(s) "
                f"and {len(exams)} exam(s); {skipped} already present; {calibrated} calibration sample(s) added."
            )
        )
