"""The demo data: the published demo accounts and exams, and `demo_seed`, which creates what is missing.

`manage.py seed_demo` calls it; the demo pages (monitoring/demo) and `seed_demo_activity` read the
constants. Idempotent: a second run finds everything and creates nothing.
"""

from __future__ import annotations

from collections.abc import Callable

from django.db import transaction

from accounts.models import Role, User
from accounts.services import proctor_add_to_group
from exams.authoring import exam_create
from exams.courses import course_create, course_students_add
from exams.models import Course, Exam, ExamStatus
from scoring.models import Baseline
from scoring.services import baseline_add_sample

# Told each step: its message, and whether it created something.
Report = Callable[..., None]


def _silent(message: str, *, created: bool = False) -> None:
    return None


DEMO_PROCTOR_EMAIL = "proctor@exampulse.ai"
DEMO_PROCTOR_PASSWORD = "password123"  # noqa: S105 - the spec's published demo credential
DEMO_STUDENT_PASSWORD = "student123"  # noqa: S105 - published demo credential, like the proctor's
# The demo students' course, with the demo proctor on staff; the demo exams stay open to everyone.
DEMO_COURSE = ("DEMO-101", "Demo Course")

# name, email, roll number, department, and the centre of their behaviour:
# (typing wpm, mouse px/s, seconds per question, tab switches per session)
DEMO_STUDENTS = [
    ("Asha Verma", "asha@exampulse.ai", "CS-101", "Computer Science", (52.0, 420.0, 48.0, 0.5)),
    ("Ben Okafor", "ben@exampulse.ai", "CS-102", "Computer Science", (38.0, 350.0, 65.0, 1.0)),
    ("Chen Li", "chen@exampulse.ai", "EE-201", "Electrical Engineering", (61.0, 510.0, 40.0, 0.0)),
    ("Dana Silva", "dana@exampulse.ai", "ME-301", "Mechanical Engineering", (44.0, 380.0, 55.0, 1.5)),
]
# Small per-sample wobble around each student's centre, so the anomaly detector sees variance.
SAMPLE_JITTER = ((1.0, 1.0, 1.0, 1.0), (0.94, 1.07, 1.1, 0.0), (1.05, 0.95, 0.92, 2.0), (0.98, 1.03, 1.04, 1.0))

DEMO_EXAM = {
    "name": "Demo: General Science Quiz",
    "description": "A short mixed quiz to try the student flow and the live proctor dashboard.",
    "duration_minutes": 30,
    "instructions": "Answer every question. Stay on this tab; tab switches and copy/paste are monitored.",
    "monitoring_sensitivity": "medium",
    # The demo page shows the risk reacting to what the visitor does; real exams keep it off (the default).
    "show_risk_to_student": True,
    "status": ExamStatus.ACTIVE,
    "questions": [
        {"id": "q1", "text": "What is 7 x 8?", "type": "mcq", "options": ["54", "56", "64"], "answer": "56"},
        {
            "id": "q2",
            "text": "Which of these are prime numbers?",
            "type": "multi",
            "options": ["2", "9", "11", "15"],
            "answer": ["2", "11"],
            "points": 2,
        },
        {
            "id": "q3",
            "text": "Which planet is closest to the Sun?",
            "type": "mcq",
            "options": ["Venus", "Mercury", "Mars"],
            "answer": "Mercury",
        },
        {
            "id": "q4",
            "text": "Which gases make up most of Earth's atmosphere?",
            "type": "multi",
            "options": ["Nitrogen", "Oxygen", "Helium", "Hydrogen"],
            "answer": ["Nitrogen", "Oxygen"],
            "points": 2,
        },
        {
            "id": "q5",
            "text": "In two sentences, explain why the sky is blue.",
            "type": "short",
            "answer": "Rayleigh scattering: shorter (blue) wavelengths scatter more in the atmosphere.",
            "points": 3,
        },
    ],
}

CALIBRATION_EXAM = {
    "name": "Calibration: typing and reading warm-up",
    "description": "Five minutes of ordinary work so ExamPulse learns how you type and read. Not graded for marks.",
    "duration_minutes": 5,
    "instructions": "Type the short answer at your normal pace; there is no wrong answer.",
    "monitoring_sensitivity": "low",
    "allow_tab_switch": True,
    "status": ExamStatus.ACTIVE,
    "is_calibration": True,
    "questions": [
        {"id": "c1", "text": "Pick any colour.", "type": "mcq", "options": ["Red", "Green", "Blue"], "answer": "Blue"},
        {"id": "c2", "text": "Describe your morning in three sentences.", "type": "short"},
    ],
}


@transaction.atomic
def demo_seed(
    *,
    proctor_password: str = DEMO_PROCTOR_PASSWORD,
    student_password: str = DEMO_STUDENT_PASSWORD,
    report: Report = _silent,
) -> None:
    """Create whatever of the demo proctor, students (with ready baselines), exams and course is missing."""
    proctor = _proctor(proctor_password, report)
    for name, email, roll, department, centre in DEMO_STUDENTS:
        _student(name, email, roll, department, centre, student_password, report)
    for spec in (DEMO_EXAM, CALIBRATION_EXAM):
        _exam(spec, proctor, report)
    _course(proctor, report)
    report(
        "Log in: POST /api/auth/login {email, password}; proctor "
        f"{DEMO_PROCTOR_EMAIL}, students {', '.join(s[1] for s in DEMO_STUDENTS)}."
    )


def _proctor(password: str, report: Report) -> User:
    existing = User.objects.filter(email__iexact=DEMO_PROCTOR_EMAIL).first()
    if existing is not None:
        report(f"Demo proctor {DEMO_PROCTOR_EMAIL} already exists.")
        proctor_add_to_group(user=existing)
        return existing
    # The spec's demo password is on the common-password list; staff may set it anyway.
    user = User.objects.create_user(
        email=DEMO_PROCTOR_EMAIL, password=password, name="Demo Proctor", role=Role.PROCTOR, is_staff=True
    )
    proctor_add_to_group(user=user)
    report(f"Created demo proctor {user.email} with password {password!r}.", created=True)
    return user


def _student(name, email, roll, department, centre, password, report: Report) -> None:
    user = User.objects.filter(email__iexact=email).first()
    if user is None:
        # Demo accounts skip the password policy on purpose: their password is published.
        user = User.objects.create_user(
            email=email, password=password, name=name, roll_number=roll, department=department, semester=3
        )
        report(f"Created demo student {email} with password {password!r}.", created=True)
    else:
        report(f"Demo student {email} already exists.")
    if Baseline.objects.filter(user=user, sample_count__gt=0).exists():
        return
    wpm, mouse, qtime, tabs = centre
    for k_wpm, k_mouse, k_qtime, k_tabs in SAMPLE_JITTER:
        baseline = baseline_add_sample(
            user=user,
            sample={
                "typing_speed_wpm": round(wpm * k_wpm, 1),
                "mouse_speed_pxs": round(mouse * k_mouse, 1),
                "avg_question_time_sec": round(qtime * k_qtime, 1),
                "tab_switch_rate": round(tabs * k_tabs, 2) if tabs else 0.0,
            },
            via="manage.py seed_demo (demo data)",
        )
    report(
        f"  baseline for {email}: {baseline.sample_count} samples, "
        f"{baseline.typing_speed_wpm:.1f} wpm, {baseline.mouse_speed_pxs:.0f} px/s, "
        f"{baseline.avg_question_time_sec:.1f} s/question"
    )


def _exam(spec: dict, proctor: User, report: Report) -> None:
    existing = Exam.objects.filter(name=spec["name"]).first()
    if existing is not None:
        report(f"Exam {existing.name!r} already exists (id {existing.pk}, {existing.status}).")
        return
    exam = exam_create(by=proctor, data=spec, via="command")
    kind = "calibration exam" if exam.is_calibration else "exam"
    report(
        f"Created {exam.status} {kind} {exam.name!r} (id {exam.pk}, {exam.total_questions} questions, "
        f"{exam.duration_minutes} min).",
        created=True,
    )


def _course(proctor: User, report: Report) -> None:
    code, name = DEMO_COURSE
    course = Course.objects.filter(code__iexact=code).first()
    if course is None:
        course = course_create(by=proctor, code=code, name=name)
        report(f"Created course {code} with {proctor.email} on staff.", created=True)
    change = course_students_add(course=course, by=proctor, emails=[s[1] for s in DEMO_STUDENTS])
    report(f"Course {code}: {len(change.added)} demo students enrolled, {len(change.already)} already.")
