"""The LTI endpoints: OIDC login initiation, the launch, the tool's JWKS.

The launch answers with the page itself (the exam for learners, the live dashboard for instructors),
carrying the user's ExamPulse tokens in `<script id="exampulse-launch">`: inside the LMS's iframe a
session cookie may never come back (third-party cookies blocked), so nothing after the launch
depends on one. The pages may be framed by the launching platform's origin only (CSP
frame-ancestors); every other page keeps `frame-ancestors 'none'`.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlsplit

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from lti_tool.models import Key, LtiLaunch, LtiRegistration

from accounts.models import Role
from accounts.services import tokens_issue
from lti import protocol
from lti.launch import Landing, launch_land
from lti.tasks import roster_sync_after_commit
from monitoring.review.views import exam_live_context

logger = logging.getLogger(__name__)


def _origin(url: str) -> str | None:
    parts = urlsplit(url or "")
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}"


def platform_origins(registration: LtiRegistration | None) -> list[str]:
    """The origins that may frame our LTI pages: the registered platform's (issuer and login URL hosts)."""
    if registration is None:
        return []
    found = [_origin(registration.issuer), _origin(registration.auth_url)]
    return sorted({origin for origin in found if origin})


def _frameable_by(response: HttpResponse, origins: list[str]) -> HttpResponse:
    """Let only these origins frame the response (nobody when empty)."""
    response._csp_replace = {"frame-ancestors": origins or ["'none'"]}  # django-csp reads it on the way out
    return response


def refused(request: HttpRequest, reason: str, status: int = 400, registration=None) -> HttpResponse:
    response = render(request, "lti/refused.html", {"reason": reason}, status=status)
    return _frameable_by(response, platform_origins(registration))


@require_GET
def jwks(request: HttpRequest) -> JsonResponse:
    """The tool's public keys (manage.py rotate_keys adds one and retires old ones)."""
    return JsonResponse(Key.objects.as_jwks())


@csrf_exempt
@xframe_options_exempt
@require_http_methods(["GET", "POST"])
def login(request: HttpRequest, registration_uuid: str | None = None) -> HttpResponse:
    """OIDC third-party login initiation: check the platform's request, send the browser to its auth URL."""
    registration = LtiRegistration.objects.filter(uuid=registration_uuid).first() if registration_uuid else None
    try:
        url = protocol.login_redirect(
            request, registration_uuid=registration_uuid, launch_url=protocol.public_url(reverse("lti:launch"))
        )
    except protocol.LaunchRefused as exc:
        return refused(request, exc.reason, exc.status, registration)
    return HttpResponseRedirect(url)


def launch_payload(request: HttpRequest, landing: Landing) -> dict[str, Any]:
    """The `#exampulse-launch` JSON: the user's tokens and where they are."""
    tokens = tokens_issue(user=landing.user)
    scheme = "wss" if request.is_secure() else "ws"
    return {
        "access": tokens["token"],
        "refresh": tokens["refresh"],
        "exam_id": landing.exam.pk if landing.exam else None,
        "course_id": landing.course.pk,
        "role": landing.role,
        "ws_url": f"{scheme}://{request.get_host()}/ws/exam/",
        "user_id": landing.user.pk,
        "name": landing.user.name,
    }


def _learner_page(request: HttpRequest, landing: Landing, payload: dict[str, Any]) -> HttpResponse:
    exam = landing.exam
    config = {
        "examId": exam.pk,
        "examName": exam.name,
        "isCalibration": exam.is_calibration,
        "students": [],
        "password": None,
        "dashboardUrl": None,
        "indexUrl": None,
    }
    return render(request, "lti/exam.html", {"exam": exam, "config": config, "launch": payload})


def _instructor_page(request: HttpRequest, landing: Landing, payload: dict[str, Any]) -> HttpResponse:
    context = exam_live_context(landing.exam)
    # The dashboard's script joins /ws/exam/ with the session cookie, which an iframe may not have:
    # the path carries the token instead (the socket's ?token= authentication).
    context["config"]["wsPath"] = f"/ws/exam/?token={payload['access']}"
    context["launch"] = payload
    request.user = landing.user  # the page's header names who is signed in
    return render(request, "lti/dashboard.html", context)


@csrf_exempt
@xframe_options_exempt
@require_POST
def launch(request: HttpRequest) -> HttpResponse:
    """The id_token comes back here (form post from the platform): validate, provision, land."""
    try:
        message_launch = protocol.validate_launch(request)
    except protocol.LaunchRefused as exc:
        logger.info("LTI launch refused: %s", exc.reason)
        return refused(request, exc.reason, exc.status)
    lti_launch = LtiLaunch(message_launch)
    registration = message_launch.get_tool_conf().registration
    if not lti_launch.is_resource_launch:
        return refused(request, "Only resource link launches are supported here.", 400, registration)
    try:
        landing = launch_land(lti_launch)
    except protocol.LaunchRefused as exc:
        logger.info("LTI launch refused: %s", exc.reason)
        return refused(request, exc.reason, exc.status, registration)
    payload = launch_payload(request, landing)
    if landing.role == Role.PROCTOR and lti_launch.context.memberships_url:
        # An instructor's launch refreshes the course's roster from the LMS, in the worker.
        roster_sync_after_commit(course_link_pk=landing.course.lti_link.pk)
    if landing.exam is None:
        template = "lti/unbound_instructor.html" if landing.role == Role.PROCTOR else "lti/unbound_learner.html"
        response = render(request, template, {"landing": landing, "launch": payload})
    elif landing.role == Role.PROCTOR:
        response = _instructor_page(request, landing, payload)
    else:
        response = _learner_page(request, landing, payload)
    # Tokens in the page: never cached by a proxy or the browser's back button.
    response["Cache-Control"] = "no-store"
    return _frameable_by(response, platform_origins(registration))
