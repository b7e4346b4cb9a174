"""`manage.py purge_events --older-than DAYS`: the retention policy. Reports first; deletes only with --yes
(audited: how many, older than what, by whom when `--by` names them)."""

from __future__ import annotations

from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from exampulse.platform.progress import progress_bar
from monitoring.management.staff import staff_by_email
from monitoring.privacy import DEFAULT_BATCH_SIZE, events_older_than, events_purge


class Command(BaseCommand):
    help = (
        "Delete behavioural events recorded more than DAYS days ago. Without --yes it only reports "
        "how many would go (a dry run); with --yes it deletes them in batches with a progress bar."
    )

    def add_arguments(self, parser):
        parser.add_argument("--older-than", type=int, required=True, metavar="DAYS", help="Age in days (>= 1).")
        parser.add_argument("--yes", "--execute", action="store_true", dest="execute", help="Really delete.")
        parser.add_argument("--batch-size", type=int, default=DEFAULT_BATCH_SIZE, help="Rows per transaction.")
        parser.add_argument("--no-progress", action="store_true", help="No progress bar (it shows only on a terminal).")
        parser.add_argument("--by", help="Email of the staff member running it (recorded in the audit trail).")

    def handle(
        self, *args, older_than: int, execute: bool, batch_size: int, no_progress: bool, by: str | None, **options
    ):
        if older_than < 1:
            raise CommandError("--older-than must be at least 1 day.")
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        actor = staff_by_email(by)
        cutoff = timezone.now() - timedelta(days=older_than)
        total = events_older_than(cutoff=cutoff).count()
        if not execute:
            self.stdout.write(
                f"Dry run: {total} event(s) recorded before {cutoff:%Y-%m-%d %H:%M} UTC would be deleted. "
                "Run again with --yes to delete them."
            )
            return
        with progress_bar(stream=self.stderr, total=total, unit="event", enabled=not no_progress) as bar:
            deleted = events_purge(
                cutoff=cutoff, batch_size=batch_size, progress=bar.update, by=actor, older_than_days=older_than
            )
        self.stdout.write(
            self.style.SUCCESS(f"Deleted {deleted} event(s) recorded before {cutoff:%Y-%m-%d %H:%M} UTC.")
        )
