"""The demo student pages: /demo/ (pick a demo student and an exam) and /demo/exam/<id>/ (take it).

Served only when settings.EXAMPULSE["DEMO"] is on (`make run` turns it on): the pages publish the
seeded demo students' password so a newcomer can log in with one click. Everything the page does
after that goes through the public REST API and /ws/exam/ with exampulse-client.js, exactly as a
real exam front end would. The pages never carry an answer key: questions come from the API. They list
and serve only what the API would: an anonymous visitor sees the exams without a course.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from accounts.models import User
from exams.models import Exam, ExamStatus
from exams.selectors import exam_list
from monitoring.demo.seed import DEMO_PROCTOR_EMAIL, DEMO_STUDENT_PASSWORD, DEMO_STUDENTS

DASHBOARD_PATH = "/monitor/exam/{exam_id}/"


def demo_only(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """404 unless the demo setting is on: outside a demo these pages must not exist."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not settings.EXAMPULSE.get("DEMO"):
            raise Http404("The demo pages are off (EXAMPULSE_DEMO).")
        return view(request, *args, **kwargs)

    return wrapper


def _demo_students() -> list[dict[str, str]]:
    """The seeded demo students that exist in this database, in seed order."""
    emails = [email for _name, email, *_rest in DEMO_STUDENTS]
    found = {
        row["email"]: row
        for row in User.objects.filter(email__in=emails, is_active=True).values("email", "name", "roll_number")
    }
    return [found[email] for email in emails if email in found]


def _open_exams(user):
    """The active exams the visitor may see, scoped like the API: anonymous visitors only exams with
    no course (open to everyone); a logged-in user what `GET /api/exams` would list for them."""
    if getattr(user, "is_authenticated", False):
        exams = exam_list(user=user).filter(status=ExamStatus.ACTIVE)
    else:
        exams = Exam.objects.filter(status=ExamStatus.ACTIVE, course__isnull=True)
    # Calibration first: a newcomer's baseline is best collected before the first real exam.
    return exams.order_by("-is_calibration", "id")


@require_GET
@demo_only
def demo_index(request: HttpRequest) -> HttpResponse:
    exams = [
        {
            "id": exam.pk,
            "name": exam.name,
            "description": exam.description,
            "duration_minutes": exam.duration_minutes,
            "total_questions": exam.total_questions,
            "is_calibration": exam.is_calibration,
            "dashboard_url": DASHBOARD_PATH.format(exam_id=exam.pk),
        }
        for exam in _open_exams(request.user)
    ]
    context = {"exams": exams, "students": _demo_students(), "proctor_email": DEMO_PROCTOR_EMAIL}
    return render(request, "demo/index.html", context)


@require_GET
@demo_only
def demo_exam(request: HttpRequest, exam_id: int) -> HttpResponse:
    exam = _open_exams(request.user).filter(pk=exam_id).first()
    if exam is None:
        raise Http404("No open exam with this id.")
    config = {
        "examId": exam.pk,
        "examName": exam.name,
        "isCalibration": exam.is_calibration,
        "students": _demo_students(),
        # Published with the demo data (seed_demo); a deployment without the demo never serves it.
        "password": DEMO_STUDENT_PASSWORD,
        "dashboardUrl": DASHBOARD_PATH.format(exam_id=exam.pk),
        "indexUrl": "/demo/",
    }
    return render(request, "demo/exam.html", {"exam": exam, "config": config})
