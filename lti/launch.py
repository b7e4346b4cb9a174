"""What a validated launch does in ExamPulse: the person, their course, the exam the link is bound to.

Order matters: every refusal (a role the account does not have, an exam the link may not be bound
to, an email another account already uses) is decided before anything is written, and the writes
happen in one transaction, so a refused launch creates nothing.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q
from lti_tool.models import LtiContext, LtiLaunch, LtiResourceLink, LtiUser
from lti_tool.utils import sync_data_from_launch

from accounts.models import Role, User
from accounts.services import audit_record
from exams.authoring import exam_create, exam_update
from exams.models import Course, CourseStaff, Enrollment, Exam
from exams.scoping import may_change_exam
from lti.models import CourseLink, ExamLink
from lti.protocol import LaunchRefused

# Context roles (LTI's membership vocabulary) that make a proctor: they teach, assist, write or run the course.
STAFF_ROLES = {"Instructor", "TeachingAssistant", "ContentDeveloper", "Administrator"}
LEARNER_ROLES = {"Learner"}
CUSTOM_EXAM_ID = "exam_id"
LINEITEM_CLAIM = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"


def role_from_claims(roles: list[str] | None) -> str | None:
    """proctor, student, or None (no role ExamPulse knows). A staff role wins over Learner: an
    instructor previewing as a student is still the instructor."""
    names = set()
    for role in roles or []:
        if not isinstance(role, str):
            continue
        # Full URIs (…/membership#Instructor, …/membership/Instructor#TeachingAssistant) or short names.
        if "://" in role and "/membership" not in role:
            continue  # system and institution roles say nothing about this course
        names.add(role.rsplit("#", 1)[-1].rsplit("/", 1)[-1])
    if names & STAFF_ROLES:
        return Role.PROCTOR
    if names & LEARNER_ROLES:
        return Role.STUDENT
    return None


@dataclass
class Landing:
    """Where the launch lands: the user, their role, the course and (if bound) the exam."""

    user: User
    role: str
    course: Course
    exam: Exam | None
    link: ExamLink | None


def account_for(*, issuer: str, sub: str) -> User | None:
    """The ExamPulse account already linked to this platform identity (issuer, sub), if any."""
    row = (
        LtiUser.objects.filter(registration__issuer=issuer, sub=sub, auth_user__isnull=False)
        .select_related("auth_user")
        .first()
    )
    return row.auth_user if row is not None else None


def _placeholder_email(issuer: str, sub: str) -> str:
    # The platform withheld the email (its privacy settings): a stable, undeliverable address.
    digest = hashlib.sha256(f"{issuer}\n{sub}".encode()).hexdigest()[:24]
    return f"lti-{digest}@lti.invalid"


def _display_name(claims: dict[str, Any]) -> str:
    name = (claims.get("name") or "").strip()
    if not name:
        name = " ".join(part for part in (claims.get("given_name"), claims.get("family_name")) if part).strip()
    return (name or "LMS user")[:150]


def plan_account(*, issuer: str, sub: str, claims: dict[str, Any], role: str) -> tuple[User | None, str]:
    """The existing account (checked) or None and the email a new one gets; LaunchRefused when the
    account's role differs or the platform's email already belongs to an unlinked account."""
    user = account_for(issuer=issuer, sub=sub)
    if user is not None:
        if not user.is_active:
            raise LaunchRefused("This ExamPulse account is deactivated.", status=403)
        if user.role != role:
            raise LaunchRefused(
                f"Your ExamPulse account is a {user.role} account, but the course launched you as a "
                f"{role}. A launch never changes an account's role: ask an administrator.",
                status=403,
            )
        return user, user.email
    email = (claims.get("email") or "").strip().lower() or _placeholder_email(issuer, sub)
    if User.objects.filter(email__iexact=email).exists():
        # Never matched by email alone: whoever controls the platform's email field would take the account.
        raise LaunchRefused(
            f"An ExamPulse account with the email {email} exists but is not linked to this LMS login. "
            "An administrator can link it (admin: LTI users, auth user).",
            status=403,
        )
    return None, email


def account_create(*, lti_user: LtiUser, email: str, name: str, role: str) -> User:
    """A new account for a platform identity: no usable password (it signs in through the LMS)."""
    user = User.objects.create_user(email=email, password=None, name=name, role=role)
    lti_user.auth_user = user
    lti_user.save(update_fields=["auth_user", "datetime_modified"])
    audit_record(actor=None, action="lti_account_create", target=user, details={"sub": lti_user.sub, "role": role})
    return user


def course_for(context: LtiContext, *, by: User | None) -> Course:
    """The context's course, created at its first launch (named from the context's title and label)."""
    link = CourseLink.objects.filter(context=context).select_related("course").first()
    if link is not None:
        return link.course
    label = (context.label or "LTI").strip()[:18] or "LTI"
    code = f"{label}-L{context.pk}"[:32]
    name = " · ".join(part for part in (context.title.strip(), context.label.strip()) if part) or code
    try:
        with transaction.atomic():
            course = Course.objects.create(code=code, name=name[:200], created_by=by)
    except IntegrityError:  # a course made by hand already has the code
        code = f"LTI-{context.pk}-{hashlib.sha256(code.encode()).hexdigest()[:6]}"
        course = Course.objects.create(code=code, name=name[:200], created_by=by)
    CourseLink.objects.create(context=context, course=course)
    audit_record(actor=by, action="lti_course_create", target=course, details={"context": context.id_on_platform})
    return course


def roster_place(*, course: Course, user: User) -> None:
    """Learners on the roster, staff on the staff (idempotent)."""
    if user.role == Role.PROCTOR:
        CourseStaff.objects.get_or_create(course=course, user=user)
    else:
        Enrollment.objects.get_or_create(course=course, student=user)


def _custom_exam_id(launch: LtiLaunch) -> int | None:
    raw = launch.get_custom_claim(CUSTOM_EXAM_ID)
    if raw is None or str(raw).strip() == "":
        return None
    try:
        value = int(str(raw).strip())
    except ValueError as exc:
        raise LaunchRefused(f"The link's custom parameter exam_id must be a number, not {raw!r}.") from exc
    if value <= 0:
        raise LaunchRefused(f"The link's custom parameter exam_id must be positive, not {raw!r}.")
    return value


def plan_exam(*, exam_id: int | None, user: User | None, role: str, course_id: int | None) -> Exam | None:
    """The exam a custom exam_id may bind the link to, checked before anything is written.

    An exam of the link's course (its staff put it there); or, for an instructor, an open exam
    (no course) they may change, which then joins the course. Anything else is refused.
    """
    if exam_id is None:
        return None
    exam = Exam.objects.filter(pk=exam_id).first()
    if exam is None:
        raise LaunchRefused(f"Exam {exam_id} (the link's exam_id) does not exist.", status=404)
    if course_id is not None and exam.course_id == course_id:
        return exam
    if exam.course_id is not None:
        raise LaunchRefused(
            f"Exam {exam_id} belongs to another course: only its course's staff can bind it to a link.", status=403
        )
    if role == Role.PROCTOR and user is not None and may_change_exam(user, exam):
        return exam
    raise LaunchRefused(
        f"Exam {exam_id} is an open exam that is not yours: only its creator can bind it to this course.", status=403
    )


def exam_bind(*, resource_link: LtiResourceLink, exam: Exam, course: Course, by: User | None) -> ExamLink:
    """Bind the link to the exam; an open exam joins the course (exams' own rule: its changer, staff)."""
    if exam.course_id is None and by is not None:
        exam = exam_update(exam=exam, by=by, data={"course": course.pk}, via="lti")
    link, created = ExamLink.objects.update_or_create(
        resource_link=resource_link, defaults={"exam": exam, "bound_by": by if by and by.is_proctor else None}
    )
    if created:
        audit_record(actor=by, action="lti_exam_bind", target=exam, details={"resource_link": resource_link.pk})
    return link


def _existing_course_id(launch: LtiLaunch) -> int | None:
    context_claim = launch.context_claim or {}
    row = CourseLink.objects.filter(
        context__deployment=launch.deployment, context__id_on_platform=context_claim.get("id", "")
    ).first()
    return row.course_id if row is not None else None


# What LtiLaunch caches from the database; a retried attempt must read it again.
_LAUNCH_CACHED = ("user", "context", "resource_link", "membership", "platform_instance")


def launch_land(launch: LtiLaunch, *, deep_link: bool = False) -> Landing:
    """Provision what a validated resource-link launch needs and say where it lands; LaunchRefused
    before any write when the launch cannot be honoured. A deep-linking launch (an instructor picking
    what a new link opens) provisions the person and the course only.

    A class opening a new course's link at the same moment races to create the same rows (the
    context, its course, a double-clicked learner's account): the loser's transaction hits a unique
    constraint, and is simply run again, now finding the winner's rows."""
    for attempt in range(3):
        try:
            return _launch_land(launch, deep_link=deep_link)
        except IntegrityError:
            if attempt == 2:
                raise
            for name in _LAUNCH_CACHED:
                launch.__dict__.pop(name, None)
    raise AssertionError("unreachable")


def _launch_land(launch: LtiLaunch, *, deep_link: bool) -> Landing:
    issuer = launch.get_claim("iss")
    sub = launch.get_claim("sub")
    if not sub:
        raise LaunchRefused("The launch names no user (anonymous launches are not supported).")
    if not launch.context_claim or not launch.context_claim.get("id"):
        raise LaunchRefused("The launch has no course context: add ExamPulse inside a course.")
    role = role_from_claims(launch.roles_claim)
    if role is None:
        raise LaunchRefused("Your role in this course gives no access to ExamPulse (Learner or Instructor).", 403)
    if deep_link and role != Role.PROCTOR:
        raise LaunchRefused("Only the course's staff can choose what an ExamPulse link opens.", 403)
    claims = launch.get_launch_data()
    user, email = plan_account(issuer=issuer, sub=sub, claims=claims, role=role)
    exam_id = None if deep_link else _custom_exam_id(launch)
    exam = plan_exam(exam_id=exam_id, user=user, role=role, course_id=_existing_course_id(launch))

    with transaction.atomic():
        sync_data_from_launch(launch)
        lti_user = launch.user
        if user is None:
            user = account_create(lti_user=lti_user, email=email, name=_display_name(claims), role=role)
        course = course_for(launch.context, by=user if role == Role.PROCTOR else None)
        roster_place(course=course, user=user)
        if deep_link:
            return Landing(user=user, role=role, course=course, exam=None, link=None)
        resource_link = launch.resource_link
        if exam is not None:
            link = exam_bind(resource_link=resource_link, exam=exam, course=course, by=user)
        else:
            link = ExamLink.objects.filter(resource_link=resource_link).select_related("exam").first()
        if link is not None:
            lineitem = ((launch.ags_claim or {}).get("lineitem") or "").strip()
            if lineitem and link.lineitem_url != lineitem:
                link.lineitem_url = lineitem
                link.save(update_fields=["lineitem_url"])
        return Landing(user=user, role=role, course=course, exam=link.exam if link else None, link=link)


def exams_to_bind(*, user: User, course: Course) -> list[Exam]:
    """What an instructor may bind a link of this course to: the course's exams and the open exams they
    may change (which would then join the course)."""
    if user.role != Role.PROCTOR:
        return []
    candidates = Exam.objects.filter(Q(course=course) | Q(course__isnull=True)).order_by("-created_at", "-id")
    return [exam for exam in candidates if exam.course_id == course.pk or may_change_exam(user, exam)]


def exam_create_for_link(*, user: User, course: Course, name: str, duration_minutes: int) -> Exam:
    """A new exam in the link's course, made from the picker (questions are added afterwards)."""
    return exam_create(
        by=user, data={"name": name, "duration_minutes": duration_minutes, "course": course.pk}, via="lti"
    )
