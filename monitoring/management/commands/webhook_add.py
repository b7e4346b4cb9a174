"""Register a webhook: `manage.py webhook_add --url URL --secret S --events high_risk_alert,hand_raised [--by EMAIL]`.

Audited like the admin's form (the same service); `--by` names the staff member in the trail.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from exampulse.platform.errors import DomainError
from monitoring.management.staff import staff_by_email
from monitoring.notify import webhooks
from monitoring.notify.models import NotifyEvent


class Command(BaseCommand):
    help = "Add a webhook (global: it hears every exam). Prints its id."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--url", required=True, help="http:// or https:// URL that receives the POSTs")
        parser.add_argument("--secret", required=True, help="HMAC-SHA256 key the receiver verifies")
        parser.add_argument("--events", required=True, help=f"comma-separated, among: {', '.join(NotifyEvent.values)}")
        parser.add_argument("--inactive", action="store_true", help="store it switched off")
        parser.add_argument("--by", help="email of the staff member adding it (recorded in the audit trail)")

    def handle(self, *args, url: str, secret: str, events: str, inactive: bool, by: str | None, **options) -> None:
        names = [name.strip() for name in events.split(",") if name.strip()]
        actor = staff_by_email(by)
        try:
            hook = webhooks.webhook_create(url=url, secret=secret, events=names, active=not inactive, created_by=actor)
        except DomainError as exc:
            raise CommandError(f"{exc} {exc.details}") from exc
        self.stdout.write(str(hook.pk))
