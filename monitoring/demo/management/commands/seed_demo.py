"""`manage.py seed_demo`: idempotent demo data so a newcomer lands on a server with something to see.

Creates (only what is missing): the spec's demo proctor, a few students with ready baselines,
an active demo exam with mcq/multi/short questions, a short calibration exam, and the course DEMO-101
with the demo students enrolled and the demo proctor on staff (monitoring.demo.seed). The demo exams stay open.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand

from monitoring.demo.seed import DEMO_PROCTOR_PASSWORD, DEMO_STUDENT_PASSWORD, demo_seed


class Command(BaseCommand):
    help = "Create the demo proctor, students with baselines, an active exam and a calibration exam. Safe to rerun."

    def add_arguments(self, parser):
        parser.add_argument(
            "--password",
            default=DEMO_PROCTOR_PASSWORD,
            help="Password for the demo proctor; set one of your own on anything public.",
        )
        parser.add_argument(
            "--student-password",
            default=DEMO_STUDENT_PASSWORD,
            help="Password for the demo students; set one of your own on anything public.",
        )

    def handle(self, *args, password: str, student_password: str, **options):
        def report(message: str, *, created: bool = False) -> None:
            self.stdout.write(self.style.SUCCESS(message) if created else message)

        demo_seed(proctor_password=password, student_password=student_password, report=report)
