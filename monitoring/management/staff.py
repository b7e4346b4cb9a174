"""`--by EMAIL` for the management commands: the staff member an audited command is recorded against."""

from __future__ import annotations

from django.core.management.base import CommandError

from accounts.models import User


def staff_by_email(email: str | None) -> User | None:
    """The active staff account with this email (None when no --by was given); CommandError otherwise."""
    if not email:
        return None
    actor = User.objects.filter(email__iexact=email.strip(), is_staff=True, is_active=True).first()
    if actor is None:
        raise CommandError(f"--by {email!r} is not an active staff account.")
    return actor
