"""manage.py lti_register: register (or update) an LMS platform and print the URLs to paste into it."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.core.validators import URLValidator
from django.db import transaction
from django.urls import reverse
from lti_tool.models import Key, LtiDeployment, LtiRegistration

from lti.protocol import public_url


class Command(BaseCommand):
    help = (
        "Register an LTI 1.3 platform (idempotent on issuer + client id) with its deployments, and print "
        "login_url, launch_url and jwks_url to paste into the LMS."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--name", required=True, help="a display name, e.g. 'Moodle (campus)'")
        parser.add_argument(
            "--issuer", required=True, help="the platform's issuer (iss), e.g. https://moodle.example.edu"
        )
        parser.add_argument("--client-id", required=True, help="the client id the platform gave ExamPulse")
        parser.add_argument(
            "--deployment-id", action="append", required=True, help="a deployment id (repeat for several)"
        )
        parser.add_argument("--auth-url", required=True, help="the platform's OIDC authentication request URL")
        parser.add_argument("--token-url", required=True, help="the platform's OAuth2 access token URL")
        parser.add_argument("--keyset-url", required=True, help="the platform's public keyset (JWKS) URL")

    def handle(self, *args: Any, **options: Any) -> None:
        check = URLValidator(schemes=["http", "https"])
        for flag in ("issuer", "auth_url", "token_url", "keyset_url"):
            try:
                check(options[flag])
            except ValidationError as exc:
                raise CommandError(f"--{flag.replace('_', '-')} must be an http(s) URL, not {options[flag]!r}") from exc
        deployment_ids = [value.strip() for value in options["deployment_id"] if value.strip()]
        if not deployment_ids:
            raise CommandError("--deployment-id must not be empty")
        with transaction.atomic():
            registration, created = LtiRegistration.objects.update_or_create(
                issuer=options["issuer"],
                client_id=options["client_id"],
                defaults={
                    "name": options["name"],
                    "auth_url": options["auth_url"],
                    "token_url": options["token_url"],
                    "keyset_url": options["keyset_url"],
                    "is_active": True,
                },
            )
            for deployment_id in deployment_ids:
                LtiDeployment.objects.update_or_create(
                    registration=registration, deployment_id=deployment_id, defaults={"is_active": True}
                )
            if not Key.objects.active().exists():
                # The tool signs its service requests (roster, grades) with this key; its JWKS is public.
                Key.objects.generate()
        self.stderr.write(f"{'Registered' if created else 'Updated'} {registration.name} ({registration.issuer}).")
        login = reverse("lti:login-registration", args=[registration.uuid])
        self.stdout.write(f"login_url: {public_url(login)}")
        self.stdout.write(f"launch_url: {public_url(reverse('lti:launch'))}")
        self.stdout.write(f"jwks_url: {public_url(reverse('lti:jwks'))}")
