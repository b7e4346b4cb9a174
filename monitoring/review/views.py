"""The live proctor dashboard's pages: /monitor/ (the exams) and /monitor/exam/<id>/ (one exam, live).

The pages are server-rendered shells; the live page's script talks to /ws/exam/ with the proctor's
Django session cookie. Only logged-in proctors get in: anonymous users are sent to the admin login,
students are refused. A proctor sees only exams in their scope (exams.scoping); another exam is a 404.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET

from exams import reasons
from exams import selectors as exam_selectors
from exams.exceptions import ExamNotFound
from exams.models import Exam
from monitoring.review import selectors as review
from scoring import catalogue
from scoring.engine import alert_threshold


def proctor_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Anonymous: redirect to the login page. Logged in but not a proctor: 403."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        user = request.user
        if not user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not (user.is_active and user.is_proctor):
            raise PermissionDenied("The live dashboard is for proctors.")
        return view(request, *args, **kwargs)

    return wrapper


def _exam_or_404(request: HttpRequest, exam_id: int) -> Exam:
    """The exam through the one scoped selector; out of scope reads as missing (404, never 403)."""
    try:
        return exam_selectors.exam_get_for_user(exam_id=exam_id, user=request.user)
    except ExamNotFound as exc:
        raise Http404("No such exam.") from exc


@require_GET
@proctor_required
def exam_list(request: HttpRequest) -> HttpResponse:
    return render(request, "monitoring/exam_list.html", {"exams": review.dashboard_exams(user=request.user)})


def exam_live_context(exam: Exam) -> dict[str, Any]:
    """What the live page renders for one exam (the LTI instructor landing renders it too)."""
    config = {
        "examId": exam.pk,
        "wsPath": "/ws/exam/",
        "alertsUrl": reverse("monitoring:exam-alerts", args=[exam.pk]),
        # The script swaps the trailing 0 for a session id.
        "sessionUrl": reverse("admin:exams_examsession_change", args=[0]),
        "alerts": review.exam_open_alerts(exam_id=exam.pk),
        # Warnings show as "k of n" per student.
        "maxWarnings": exam.max_warnings,
    }
    context = {
        "exam": exam,
        "config": config,
        "threshold": alert_threshold(exam.monitoring_sensitivity),
        # The page is served the catalogue so that dashboard.js keeps no copy of the event types.
        "catalogue": catalogue.as_json(),
        # The incident-reason taxonomy for the terminate, warn and pause prompts (no copy in the script).
        "reasons": reasons.as_json(),
    }
    return context


@require_GET
@proctor_required
def exam_live(request: HttpRequest, exam_id: int) -> HttpResponse:
    exam = _exam_or_404(request, exam_id)
    return render(request, "monitoring/exam_live.html", exam_live_context(exam))


@require_GET
@proctor_required
def exam_alerts(request: HttpRequest, exam_id: int) -> JsonResponse:
    """The exam's unresolved alerts: the live page resynchronises its feed with this after a reconnect."""
    exam = _exam_or_404(request, exam_id)
    return JsonResponse({"exam_id": exam.pk, "alerts": review.exam_open_alerts(exam_id=exam.pk)})
