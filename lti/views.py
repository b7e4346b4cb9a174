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

from django.core import signing
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from lti_tool.models import Key, LtiLaunch, LtiRegistration, LtiResourceLink
from pylti1p3.deep_link_resource import DeepLinkResource
from rest_framework.exceptions import ValidationError

from accounts.models import Role, User
from accounts.services import tokens_issue
from exams.models import Course, Exam
from lti import protocol
from lti.launch import Landing, exam_bind, exam_create_for_link, exams_to_bind, launch_land
from lti.tasks import roster_sync_after_commit
from monitoring.review.views import exam_live_context

logger = logging.getLogger(__name__)
TICKET_SALT = "lti.picker"
# How long a picker page stays usable (the ticket in its forms).
TICKET_SECONDS = 2 * 3600


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


def _ticket(*, user, course, registration, **extra) -> str:
    """The picker's proof of who is choosing for which course: signed, short-lived, no cookie needed."""
    return signing.dumps({"u": user.pk, "c": course.pk, "r": registration.pk, **extra}, salt=TICKET_SALT)


def _picker(request: HttpRequest, landing: Landing, ticket: str, *, deep_link: bool) -> HttpResponse:
    context = {
        "landing": landing,
        "exams": exams_to_bind(user=landing.user, course=landing.course),
        "ticket": ticket,
        "deep_link": deep_link,
        "launch": launch_payload(request, landing),
    }
    return render(request, "lti/picker.html", context)


def _landed(request: HttpRequest, landing: Landing, registration: LtiRegistration, ticket: str) -> HttpResponse:
    if landing.exam is None and landing.role == Role.PROCTOR:
        response = _picker(request, landing, ticket, deep_link=False)
    elif landing.exam is None:
        response = render(request, "lti/unbound_learner.html", {"landing": landing})
    elif landing.role == Role.PROCTOR:
        response = _instructor_page(request, landing, launch_payload(request, landing))
    else:
        response = _learner_page(request, landing, launch_payload(request, landing))
    # Tokens in the page: never cached by a proxy or the browser's back button.
    response["Cache-Control"] = "no-store"
    return _frameable_by(response, platform_origins(registration))


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
    deep_link = lti_launch.is_deep_link_launch
    if not (lti_launch.is_resource_launch or deep_link):
        return refused(request, "Only resource link and deep linking launches are supported.", 400, registration)
    try:
        landing = launch_land(lti_launch, deep_link=deep_link)
    except protocol.LaunchRefused as exc:
        logger.info("LTI launch refused: %s", exc.reason)
        return refused(request, exc.reason, exc.status, registration)
    if landing.role == Role.PROCTOR and lti_launch.context.memberships_url:
        # An instructor's launch refreshes the course's roster from the LMS, in the worker.
        roster_sync_after_commit(course_link_pk=landing.course.lti_link.pk)
    if deep_link:
        ticket = _ticket(
            user=landing.user, course=landing.course, registration=registration, dl=lti_launch.get_launch_id()
        )
        response = _picker(request, landing, ticket, deep_link=True)
        response["Cache-Control"] = "no-store"
        return _frameable_by(response, platform_origins(registration))
    ticket = _ticket(
        user=landing.user, course=landing.course, registration=registration, rl=lti_launch.resource_link.pk
    )
    return _landed(request, landing, registration, ticket)


def _pick_exam(request: HttpRequest, user, course) -> Exam:
    """The exam the picker's form names (one the instructor may bind), or a new one it creates."""
    if request.POST.get("action") == "create":
        try:
            minutes = int(request.POST.get("duration_minutes") or 0)
        except ValueError:
            minutes = 0
        name = (request.POST.get("name") or "").strip()
        if not name or not 1 <= minutes <= 1440:
            raise protocol.LaunchRefused("A new exam needs a name and a duration of 1 to 1440 minutes.", 400)
        try:
            return exam_create_for_link(user=user, course=course, name=name[:200], duration_minutes=minutes)
        except (ValidationError, DjangoValidationError) as exc:
            raise protocol.LaunchRefused(f"The exam could not be created: {exc}", 400) from exc
    allowed = {exam.pk: exam for exam in exams_to_bind(user=user, course=course)}
    try:
        exam_id = int(request.POST.get("exam_id") or 0)
    except ValueError:
        exam_id = 0
    if exam_id not in allowed:
        raise protocol.LaunchRefused("That exam cannot be bound to this course's links.", 403)
    return allowed[exam_id]


@csrf_exempt
@xframe_options_exempt
@require_POST
def pick(request: HttpRequest) -> HttpResponse:
    """The instructor's choice from the picker: bind the link (then the dashboard) or, for deep
    linking, answer the LMS with the exam as an ltiResourceLink carrying exam_id."""
    try:
        ticket = signing.loads(request.POST.get("ticket") or "", salt=TICKET_SALT, max_age=TICKET_SECONDS)
    except signing.BadSignature:
        return refused(request, "This page has expired or was altered: open the tool again from the LMS.", 403)
    user = User.objects.filter(pk=ticket["u"], is_active=True).first()
    course = Course.objects.filter(pk=ticket["c"]).first()
    registration = LtiRegistration.objects.filter(pk=ticket["r"], is_active=True).first()
    if user is None or course is None or registration is None or not user.is_proctor:
        return refused(request, "This choice is no longer valid: open the tool again from the LMS.", 403)
    try:
        with transaction.atomic():
            exam = _pick_exam(request, user, course)
            if "dl" in ticket:
                return _deep_link_answer(request, ticket["dl"], exam, registration)
            resource_link = LtiResourceLink.objects.get(pk=ticket["rl"])
            link = exam_bind(resource_link=resource_link, exam=exam, course=course, by=user)
    except protocol.LaunchRefused as exc:
        return refused(request, exc.reason, exc.status, registration)
    landing = Landing(user=user, role=Role.PROCTOR, course=course, exam=link.exam, link=link)
    return _landed(request, landing, registration, request.POST["ticket"])


def _deep_link_answer(request: HttpRequest, launch_id: str, exam: Exam, registration) -> HttpResponse:
    """The deep-linking response: a form (sent by a static script, or its button) that posts the signed
    LtiDeepLinkingResponse with the exam as an ltiResourceLink to the LMS's return URL."""
    message_launch = protocol.restore_launch(request, launch_id)
    deep_link = message_launch.get_deep_link()
    resource = (
        DeepLinkResource()
        .set_url(protocol.public_url(reverse("lti:launch")))
        .set_title(exam.name)
        .set_custom_params({"exam_id": str(exam.pk)})
    )
    return_url = deep_link._deep_link_settings["deep_link_return_url"]
    context = {"return_url": return_url, "jwt": deep_link.get_response_jwt([resource]), "exam": exam}
    response = render(request, "lti/deep_link_return.html", context)
    response._csp_update = {"form-action": [_origin(return_url)]}
    return _frameable_by(response, platform_origins(registration))
