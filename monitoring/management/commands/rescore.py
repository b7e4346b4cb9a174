"""`manage.py rescore`: recompute stored sessions' risk from their stored events (after a rule or model change)."""

from __future__ import annotations

from datetime import datetime, time

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from exampulse.platform.progress import progress_bar
from monitoring.ingest.risk import session_rescore, session_rescore_recorded, sessions_to_rescore

MAX_LISTED = 20


def _parse_since(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        moment = parse_datetime(value)
        if moment is None:
            day = parse_date(value)
            moment = datetime.combine(day, time.min) if day else None
    except ValueError as exc:
        raise CommandError(f"--since {value!r} is not a valid date: {exc}") from exc
    if moment is None:
        raise CommandError(f"--since {value!r} is not a date (use YYYY-MM-DD or an ISO datetime)")
    return timezone.make_aware(moment) if timezone.is_naive(moment) else moment


class Command(BaseCommand):
    help = "Recompute risk for stored sessions from their stored events; reports how many scores and levels changed."

    def add_arguments(self, parser):
        parser.add_argument("--exam", type=int, help="Only sessions of this exam id.")
        parser.add_argument("--session", type=int, help="Only this session id.")
        parser.add_argument("--since", help="Only sessions started on or after this date (YYYY-MM-DD or ISO datetime).")
        parser.add_argument("--dry-run", action="store_true", help="Compute and report, write nothing.")
        parser.add_argument("--no-progress", action="store_true", help="No progress bar (it shows only on a terminal).")

    def handle(self, *args, exam=None, session=None, since=None, dry_run=False, no_progress=False, **options):
        sessions = sessions_to_rescore(exam_id=exam, session_id=session, since=_parse_since(since))
        total = sessions.count()
        if total == 0:
            self.stdout.write("No sessions match; nothing to rescore.")
            return
        scores_changed = levels_changed = incidents_changed = 0
        listed: list[str] = []
        kept: list[str] = []
        bar = progress_bar(
            sessions.iterator(chunk_size=200), stream=self.stderr, total=total, unit="session", enabled=not no_progress
        )
        for item in bar:
            if dry_run:
                outcome = session_rescore(session=item, dry_run=True)
            else:
                outcome = session_rescore_recorded(session=item, via="manage.py rescore")
            if outcome.kept_because:
                # Refused, never zeroed: a score rebuilt from what retention left would be wrong.
                kept.append(
                    f"  session {outcome.session_id}: kept {outcome.old_risk:.4f} ({outcome.old_level}):"
                    f" {outcome.kept_because}"
                )
                continue
            scores_changed += outcome.score_changed
            levels_changed += outcome.level_changed
            incidents_changed += outcome.incidents_changed
            if outcome.score_changed and len(listed) < MAX_LISTED:
                listed.append(
                    f"  session {outcome.session_id}: {outcome.old_risk:.4f} ({outcome.old_level})"
                    f" -> {outcome.new_risk:.4f} ({outcome.new_level}) from {outcome.events} events"
                )
        for line in listed:
            self.stdout.write(line)
        for line in kept[:MAX_LISTED]:
            self.stdout.write(line)
        verb = "would change" if dry_run else "changed"
        self.stdout.write(
            self.style.SUCCESS(
                f"Rescored {total - len(kept)} session(s): {scores_changed} score(s)"
                f" and {levels_changed} level(s) {verb}." + (" Dry run: nothing written." if dry_run else "")
            )
        )
        self.stdout.write(f"Flagged-incident counts (events of medium or high severity): {incidents_changed} {verb}.")
        if kept:
            self.stdout.write(
                self.style.WARNING(
                    f"{len(kept)} session(s) skipped: their events were purged, so their stored risk is kept."
                )
            )
