"""`manage.py close_expired_sessions`: submit every open session past its deadline (plus grace) with what was saved.

Reads already close overdue sessions lazily; run this from cron (e.g. every minute) so sessions
nobody reads are closed too, and their students' results and the review queue stay current.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand

from exams.sessions import sessions_close_expired


class Command(BaseCommand):
    help = "Submit every open exam session past its deadline plus the 60 s grace, with its saved answers."

    def handle(self, *args, **options):
        closed = sessions_close_expired()
        self.stdout.write(self.style.SUCCESS(f"Closed {closed} expired session(s)."))
