"""Reads of users for staff screens, and of the access-token denylist."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from accounts.models import RevokedAccessToken, Role, User
from accounts.scoping import user_scope

# Larger ids cannot exist and would overflow the database's bigint.
MAX_PK = 2**63 - 1


def student_list(*, by: object, search: str | None = None) -> QuerySet[User]:
    """Active students `by` may act on (accounts.scoping), optionally matching `search` (name, email, roll)."""
    queryset = User.objects.filter(user_scope(by), role=Role.STUDENT, is_active=True).order_by("name", "id")
    if search:
        queryset = queryset.filter(
            Q(name__icontains=search) | Q(email__icontains=search) | Q(roll_number__icontains=search)
        )
    return queryset


def student_get(*, user_id: object, by: object) -> User | None:
    """The student with this id if `by` may act on them, or None (proctors, unknown and out-of-scope ids alike)."""
    try:
        pk = int(user_id)
    except (TypeError, ValueError):
        return None
    if not 0 < pk <= MAX_PK:
        return None
    return User.objects.filter(user_scope(by), pk=pk, role=Role.STUDENT).first()


def access_token_revoked(jti: object) -> bool:
    """True when logout revoked the access token with this `jti` (one indexed lookup)."""
    return isinstance(jti, str) and RevokedAccessToken.objects.filter(jti=jti).exists()


def revoked_access_token_ids(jtis: set[str]) -> set[str]:
    """Which of these `jti`s logout revoked: one query for a whole batch of socket handshakes."""
    if not jtis:
        return set()
    return set(RevokedAccessToken.objects.filter(jti__in=jtis).values_list("jti", flat=True))
