"""The LTI side's work for the task worker (django-tasks, `manage.py db_worker`, as the notifications)."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from django_tasks import task

from lti.grades import score_attempt
from lti.models import CourseLink
from lti.roster import RosterUnavailable, roster_sync

logger = logging.getLogger(__name__)
QUEUE = "default"


@task(queue_name=QUEUE)
def roster_sync_task(course_link_pk: int) -> None:
    """Sync one course's roster from its LMS (after an instructor's launch)."""
    link = CourseLink.objects.select_related("context__deployment__registration", "course").filter(pk=course_link_pk)
    link = link.first()
    if link is None:
        return
    try:
        result = roster_sync(link)
    except RosterUnavailable as exc:
        logger.warning("LTI roster sync skipped: %s", exc)
        return
    logger.info("LTI roster sync: %s", result.as_line())


def roster_sync_after_commit(*, course_link_pk: int) -> None:
    """Hand the course's roster sync to the worker once the launch's transaction commits."""
    transaction.on_commit(lambda: roster_sync_task.enqueue(course_link_pk), robust=True)


@task(queue_name=QUEUE)
def score_send_task(delivery_pk: int) -> None:
    """One attempt at sending a score to the LMS; a failure schedules the next attempt."""
    delay = score_attempt(delivery_pk=delivery_pk)
    if delay is not None:
        score_send_task.using(run_after=timezone.now() + timedelta(seconds=delay)).enqueue(delivery_pk)


def score_send_after_commit(*, deliveries) -> None:
    """Hand stored score rows to the worker once the transaction commits (at once outside one)."""
    pks = [row.pk for row in deliveries]

    def enqueue() -> None:
        for pk in pks:
            score_send_task.enqueue(pk)

    transaction.on_commit(enqueue, robust=True)
