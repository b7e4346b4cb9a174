"""The worker's tasks (django-tasks, DatabaseBackend; `manage.py db_worker` runs them).

One task per attempt: an attempt that fails enqueues the next with `run_after` set by the retry
schedule. Enqueueing is one INSERT into the task table after the outbox rows commit; a failure
there is logged, never raised into the request or the ingest hop (`robust=True`), and the row
stays pending for `manage.py notify_resend`.
"""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from django_tasks import task

from monitoring.notify import email, webhooks

QUEUE = "default"


@task(queue_name=QUEUE)
def webhook_deliver(delivery_pk: int) -> None:
    """One attempt at a webhook delivery; a failure schedules the next attempt."""
    delay = webhooks.delivery_attempt(delivery_pk=delivery_pk)
    if delay is not None:
        webhook_deliver.using(run_after=timezone.now() + timedelta(seconds=delay)).enqueue(delivery_pk)


@task(queue_name=QUEUE)
def alert_email_send(email_pk: int) -> None:
    """One attempt at an alert email; a failure schedules the next attempt."""
    delay = email.alert_email_attempt(email_pk=email_pk)
    if delay is not None:
        alert_email_send.using(run_after=timezone.now() + timedelta(seconds=delay)).enqueue(email_pk)


def enqueue_after_commit(*, deliveries=(), emails=()) -> None:
    """Hand the stored rows to the worker once the current transaction commits (at once outside one)."""
    delivery_pks = [delivery.pk for delivery in deliveries]
    email_pks = [row.pk for row in emails if row is not None]
    if not delivery_pks and not email_pks:
        return

    def enqueue() -> None:
        for pk in delivery_pks:
            webhook_deliver.enqueue(pk)
        for pk in email_pks:
            alert_email_send.enqueue(pk)

    transaction.on_commit(enqueue, robust=True)
