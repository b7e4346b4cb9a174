"""manage.py lti_sync_roster [--course ID]: read each LMS course's members (NRPS) into its roster."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from lti.models import CourseLink
from lti.roster import RosterUnavailable, roster_sync


class Command(BaseCommand):
    help = (
        "Sync the rosters of courses launched from an LMS (LTI NRPS): learners enrolled, instructors on "
        "staff, members who left removed (their sessions stay). All such courses, or one with --course."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--course", type=int, help="the ExamPulse course id (default: every LMS course)")

    def handle(self, *args: Any, **options: Any) -> None:
        links = CourseLink.objects.select_related("context__deployment__registration", "course").order_by("course_id")
        if options["course"] is not None:
            links = links.filter(course_id=options["course"])
            if not links.exists():
                raise CommandError(f"Course {options['course']} was not created by an LMS launch.")
        failures = 0
        for link in links:
            try:
                result = roster_sync(link)
            except RosterUnavailable as exc:
                failures += 1
                self.stderr.write(str(exc))
                continue
            self.stdout.write(result.as_line())
            for sub, why in sorted(result.skipped.items()):
                self.stdout.write(f"  skipped {sub}: {why}")
        if failures:
            raise CommandError(f"{failures} course(s) could not be synced.")
