"""Roster sync over NRPS 2.0 (Names and Role Provisioning): the LMS's member list becomes the course's.

The access token is PyLTI1p3's (client_credentials with a JWT assertion signed by the tool's key,
scope contextmembership.readonly), the member list django-lti's `fetch_member_data` (paged).
Learners are enrolled and staff roles put on the staff, accounts created as at launch; members the
platform no longer lists (or lists as inactive) leave the roster or the staff. Their sessions stay.
Only people who came from this LMS are ever removed: an account put on the course by hand stays.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone
from lti_tool.models import LtiMembership, LtiUser
from lti_tool.services.nrps import fetch_member_data
from pylti1p3.exception import LtiException

from accounts.models import Role
from exams.courses import course_staff_remove, course_student_remove
from exams.exceptions import CourseNeedsStaff
from exams.models import CourseStaff, Enrollment
from lti.launch import account_create, plan_account, role_from_claims, roster_place
from lti.models import CourseLink
from lti.protocol import LaunchRefused

logger = logging.getLogger(__name__)


class RosterUnavailable(Exception):
    """The platform's roster could not be read (no NRPS for the context, or the request failed)."""


@dataclass
class RosterSync:
    course_id: int
    added: list[str] = field(default_factory=list)  # subs newly on the roster or staff
    created: list[str] = field(default_factory=list)  # subs that got a new account
    removed: list[str] = field(default_factory=list)  # subs that left the roster or staff
    skipped: dict[str, str] = field(default_factory=dict)  # sub -> why nothing was done

    def as_line(self) -> str:
        return (
            f"course {self.course_id}: {len(self.added)} added ({len(self.created)} new accounts), "
            f"{len(self.removed)} removed, {len(self.skipped)} skipped"
        )


def _plan_member(link: CourseLink, member: dict, result: RosterSync):
    """(lti_user, account or None, email, role) for an active member, or None (recorded in skipped)."""
    sub = str(member.get("user_id") or "")
    role = role_from_claims(member.get("roles"))
    if not sub or role is None:
        result.skipped[sub or "?"] = "no role ExamPulse knows"
        return None
    registration = link.context.deployment.registration
    lti_user = LtiUser.objects.filter(
        registration__issuer=registration.issuer, sub=sub, auth_user__isnull=False
    ).first()
    if lti_user is not None:
        account = lti_user.auth_user
        if account.role != role:
            result.skipped[sub] = f"their account is a {account.role}, the LMS lists a {role}"
            return None
        return lti_user, account, account.email, role
    try:
        _, email = plan_account(issuer=registration.issuer, sub=sub, claims=member, role=role)
    except LaunchRefused as exc:
        result.skipped[sub] = exc.reason
        return None
    return None, None, email, role


@transaction.atomic
def roster_apply(link: CourseLink, members: list[dict]) -> RosterSync:
    """Make the course's LMS-born roster and staff what `members` (NRPS member dicts) say."""
    course = link.course
    context = link.context
    registration = context.deployment.registration
    result = RosterSync(course_id=course.pk)
    present: set[int] = set()
    for member in members:
        if member.get("status", "Active") != "Active":
            continue
        plan = _plan_member(link, member, result)
        if plan is None:
            continue
        lti_user, account, email, role = plan
        sub = str(member["user_id"])
        if lti_user is None:
            lti_user, _ = LtiUser.objects.get_or_create(registration=registration, sub=sub)
        if account is None:
            name = member.get("name") or " ".join(filter(None, [member.get("given_name"), member.get("family_name")]))
            account = account_create(lti_user=lti_user, email=email, name=(name or "LMS user")[:150], role=role)
            result.created.append(sub)
        on_course = (
            CourseStaff.objects.filter(course=course, user=account).exists()
            if role == Role.PROCTOR
            else Enrollment.objects.filter(course=course, student=account).exists()
        )
        if not on_course:
            roster_place(course=course, user=account)
            result.added.append(sub)
        present.add(account.pk)
    # django-lti's own membership rows follow the platform too (inactive when gone).
    context.update_memberships([m for m in members if m.get("user_id") and m.get("roles") is not None])
    LtiMembership.objects.filter(context=context).exclude(user__sub__in=[m.get("user_id") for m in members]).update(
        is_active=False
    )
    _remove_departed(link, present, result)
    link.synced_at = timezone.now()
    link.save(update_fields=["synced_at"])
    return result


def _remove_departed(link: CourseLink, present: set[int], result: RosterSync) -> None:
    """Whoever came from this LMS and is no longer listed leaves the roster or the staff (sessions stay)."""
    issuer = link.context.deployment.registration.issuer
    from_lms = dict(
        LtiUser.objects.filter(registration__issuer=issuer, auth_user__isnull=False).values_list("auth_user_id", "sub")
    )
    course = link.course
    for enrollment in Enrollment.objects.filter(course=course, student_id__in=list(from_lms)).exclude(
        student_id__in=present
    ):
        course_student_remove(course=course, by=None, user_id=enrollment.student_id)
        result.removed.append(from_lms[enrollment.student_id])
    for staff in CourseStaff.objects.filter(course=course, user_id__in=list(from_lms)).exclude(user_id__in=present):
        try:
            course_staff_remove(course=course, by=None, user_id=staff.user_id)
        except CourseNeedsStaff:
            result.skipped[from_lms[staff.user_id]] = "the course's last staff member stays"
            continue
        result.removed.append(from_lms[staff.user_id])


def roster_sync(link: CourseLink) -> RosterSync:
    """Fetch the context's members from the platform and apply them; RosterUnavailable if it cannot."""
    if not link.context.memberships_url:
        raise RosterUnavailable(f"course {link.course_id}: the LMS gave no roster service (NRPS) for this context")
    try:
        members = fetch_member_data(link.context)
    except (LtiException, OSError) as exc:
        raise RosterUnavailable(f"course {link.course_id}: the roster request failed: {exc}") from exc
    return roster_apply(link, members)
