"""`manage.py create_proctor --email E --name N [--password P]`: the staff path to a proctor account."""

from __future__ import annotations

import getpass

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from accounts.models import User
from accounts.services import proctor_create


class Command(BaseCommand):
    help = "Create a proctor account (a staff user who can open the admin review console)."

    def add_arguments(self, parser):
        parser.add_argument("--email", required=True)
        parser.add_argument("--name", required=True)
        parser.add_argument("--password", help="Prompted for when omitted (keeps it out of shell history).")

    def handle(self, *args, email: str, name: str, password: str | None, **options):
        if User.objects.filter(email__iexact=email).exists():
            raise CommandError(f"An account with email {email} already exists.")
        if password is None:
            password = getpass.getpass("Password: ")
        try:
            user = proctor_create(email=email, password=password, name=name)
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        self.stdout.write(self.style.SUCCESS(f"Created proctor {user.email} (id {user.pk})."))
