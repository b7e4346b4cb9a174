"""Grades back to the LMS (AGS 2.0): a final session's score to its link's line item, from an outbox.

When a session of a bound exam becomes final, or its grade changes afterwards (short answers
graded, a verdict given, confirmed or overturned), `score_record` stores the score the LMS should
show as a ScoreDelivery row in the same transaction, and the task worker sends it once that
commits, retrying with the notifications' schedule; every attempt is kept (admin: Score deliveries).

What the LMS is told (the earlier design choice for verdicts):
- submitted or terminated, fully graded: scoreGiven/scoreMaximum, gradingProgress FullyGraded;
- short answers still waiting for a proctor: gradingProgress Pending (no score yet);
- a violation verdict awaiting its second review: PendingManual (the grade is held);
- a confirmed violation: scoreGiven 0, FullyGraded; an overturned one: the score again;
- voided attempts and calibration exams send nothing.
A newer score supersedes an older one not yet sent, and an unchanged score is not sent twice.
"""

from __future__ import annotations

import json
import logging
import time
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import requests
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from lti_tool.models import LtiUser
from pylti1p3.assignments_grades import AssignmentsGradesService
from pylti1p3.exception import LtiException, LtiServiceException
from pylti1p3.lineitem import LineItem
from pylti1p3.service_connector import ServiceConnector

from exams.models import ExamSession, GradingStatus, ReviewStatus, SecondReview, SessionStatus
from lti.models import ExamLink, ScoreAttempt, ScoreDelivery, ScoreStatus
from monitoring.notify.outbox import claim, is_due, retry_delay

logger = logging.getLogger(__name__)

SCORE_SCOPE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"
LINEITEM_SCOPE = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem"
SCORE_TYPE = "application/vnd.ims.lis.v1.score+json"
# The fields whose change can change what the gradebook should show.
GRADE_FIELDS = {"status", "score", "max_score", "grading_status", "review_status", "second_review", "voided"}
LEASE_SECONDS = 120


def score_for(session: ExamSession) -> dict[str, Any] | None:
    """The AGS score fields (without userId and timestamp) for the session, or None: nothing to send."""
    if session.status == SessionStatus.IN_PROGRESS or session.voided or session.exam.is_calibration:
        return None
    if not session.max_score:
        return None
    score: dict[str, Any] = {"scoreMaximum": float(session.max_score), "activityProgress": "Completed"}
    if session.review_status == ReviewStatus.VIOLATION and session.second_review == SecondReview.CONFIRMED:
        return {**score, "scoreGiven": 0.0, "gradingProgress": "FullyGraded"}
    if session.review_status == ReviewStatus.VIOLATION:
        return {**score, "gradingProgress": "PendingManual"}
    if session.grading_status == GradingStatus.PENDING:
        return {**score, "gradingProgress": "Pending"}
    return {**score, "scoreGiven": float(session.score or 0), "gradingProgress": "FullyGraded"}


def _comparable(payload: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in payload.items() if key != "timestamp"}


def score_record(session: ExamSession) -> list[ScoreDelivery]:
    """Store the session's current score for each LMS link of its exam (call inside the transaction
    that changed the session); hands the rows to the worker on commit. Returns the new rows."""
    score = score_for(session)
    if score is None:
        return []
    rows = []
    for link in ExamLink.objects.filter(exam_id=session.exam_id).select_related(
        "resource_link__context__deployment__registration"
    ):
        registration = link.resource_link.context.deployment.registration
        lti_user = LtiUser.objects.filter(
            registration__issuer=registration.issuer, auth_user_id=session.user_id
        ).first()
        if lti_user is None:
            continue  # the student did not come from this LMS
        payload = {**score, "userId": lti_user.sub, "timestamp": timezone.now().isoformat()}
        previous = ScoreDelivery.objects.filter(session=session, link=link).exclude(status=ScoreStatus.SUPERSEDED)
        latest = previous.order_by("-created_at", "-id").first()
        if latest is not None and _comparable(latest.payload) == _comparable(payload):
            continue
        previous.filter(status__in=(ScoreStatus.PENDING, ScoreStatus.FAILED)).update(
            status=ScoreStatus.SUPERSEDED, next_attempt_at=None
        )
        rows.append(ScoreDelivery.objects.create(session=session, link=link, user_sub=lti_user.sub, payload=payload))
    return rows


class _TimeoutSession(requests.Session):
    """The worker, never a request, waits on the LMS: but never longer than the webhooks' bound."""

    def request(self, *args, **kwargs):
        kwargs.setdefault("timeout", settings.WEBHOOK_TIMEOUT_SECONDS)
        return super().request(*args, **kwargs)


def _scores_url(lineitem_url: str) -> str:
    parts = urlsplit(lineitem_url)
    return urlunsplit(parts._replace(path=parts.path.rstrip("/") + "/scores"))


def _lineitem_url(link: ExamLink, connector: ServiceConnector) -> str:
    """The link's line item; one created for the exam under the context's lineitems when the launch had none."""
    if link.lineitem_url:
        return link.lineitem_url
    context = link.resource_link.context
    if not context.lineitems_url:
        raise LtiException("The LMS gave no line item and no line items service for this link")
    ags = AssignmentsGradesService(
        connector, {"scope": [LINEITEM_SCOPE, SCORE_SCOPE], "lineitems": context.lineitems_url}
    )
    wanted = (
        LineItem()
        .set_tag(f"exampulse-exam-{link.exam_id}")
        .set_label(link.exam.name)
        .set_score_maximum(
            float(link.exam.sessions.exclude(max_score=None).values_list("max_score", flat=True).first() or 1)
        )
        .set_resource_id(str(link.exam_id))
        .set_resource_link_id(link.resource_link.id_on_platform)
    )
    created = ags.find_or_create_lineitem(wanted, find_by="tag")
    link.lineitem_url = created.get_id()
    link.save(update_fields=["lineitem_url"])
    return link.lineitem_url


def score_send(row: ScoreDelivery) -> int:
    """POST the row's payload to its line item's scores endpoint; the HTTP status (raises on failure).

    The bearer token comes from PyLTI1p3 (client_credentials, JWT assertion signed with the tool key)."""
    registration = row.link.resource_link.context.deployment.registration
    session = _TimeoutSession()
    connector = ServiceConnector(registration.to_registration(), requests_session=session)
    url = _scores_url(_lineitem_url(row.link, connector))
    token = connector.get_access_token([SCORE_SCOPE])
    response = session.post(
        url, data=json.dumps(row.payload), headers={"Authorization": f"Bearer {token}", "Content-Type": SCORE_TYPE}
    )
    if not response.ok:
        raise LtiServiceException(response)
    return response.status_code


def score_attempt(*, delivery_pk: int) -> int | None:
    """One attempt at sending a stored score; the seconds until the next attempt, or None (done, or given up)."""
    row = (
        ScoreDelivery.objects.select_related("link__exam", "link__resource_link__context__deployment__registration")
        .filter(pk=delivery_pk)
        .first()
    )
    now = timezone.now()
    if row is None or not is_due(row, now=now) or not claim(ScoreDelivery, row, now=now, lease_seconds=LEASE_SECONDS):
        return None
    started = time.monotonic()
    status_code, error = None, ""
    try:
        status_code = score_send(row)
    except LtiServiceException as exc:
        status_code, error = exc.response.status_code, str(exc)[:2000]
    except (LtiException, requests.RequestException, OSError, ValueError) as exc:
        error = f"{type(exc).__name__}: {exc}"[:2000]
    duration = int((time.monotonic() - started) * 1000)
    with transaction.atomic():
        ScoreAttempt.objects.create(delivery=row, at=now, status_code=status_code, error=error, duration_ms=duration)
        row.attempts += 1
        row.last_status_code = status_code
        row.last_error = error
        if not error:
            row.status, row.delivered_at, row.next_attempt_at = ScoreStatus.DELIVERED, timezone.now(), None
            delay = None
        else:
            delay = retry_delay(attempts=row.attempts)
            if delay is None:
                row.status, row.next_attempt_at = ScoreStatus.GAVE_UP, None
            else:
                row.status, row.next_attempt_at = ScoreStatus.FAILED, timezone.now() + timedelta(seconds=delay)
        row.save(
            update_fields=["attempts", "last_status_code", "last_error", "status", "delivered_at", "next_attempt_at"]
        )
    if error:
        logger.warning("LTI score %s to %s failed (attempt %s): %s", row.pk, row.link.lineitem_url, row.attempts, error)
    return delay
