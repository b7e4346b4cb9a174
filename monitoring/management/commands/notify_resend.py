"""Hand every due webhook delivery and alert email to the worker again (after an enqueue failed)."""

from __future__ import annotations

from django.core.management.base import BaseCommand
from django.utils import timezone

from monitoring.notify import outbox, tasks
from monitoring.notify.models import AlertEmail, WebhookDelivery


class Command(BaseCommand):
    help = "Enqueue every pending or failed webhook delivery and alert email that is due now."

    def handle(self, *args, **options) -> None:
        now = timezone.now()
        open_rows = {"status__in": outbox.OPEN_STATUSES, "next_attempt_at__lte": now}
        deliveries = list(WebhookDelivery.objects.filter(**open_rows))
        emails = list(AlertEmail.objects.filter(**open_rows))
        tasks.enqueue_after_commit(deliveries=deliveries, emails=emails)
        self.stdout.write(f"{len(deliveries)} deliveries and {len(emails)} emails queued")
