"""Which users a proctor may act on (accommodations, the student list, baselines, the admin).

The rule needs courses, which live in `exams` (above `accounts` in the layers), so `exams`
registers it when the app is ready (exams.apps). Until then, or if nothing registers, it fails
closed: only superusers see anyone.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db.models import Q

UserScope = Callable[..., Q]
_rule: UserScope | None = None
_examinee_rule: UserScope | None = None


def user_scope_register(rule: UserScope) -> None:
    """Install the rule: `rule(user, user_field="")` returns a Q over users (or over `user_field`)."""
    global _rule
    _rule = rule


def examinee_scope_register(rule: UserScope) -> None:
    """Install the examinee rule: `rule(user, user_field="")` returns a Q over users."""
    global _examinee_rule
    _examinee_rule = rule


def examinee_scope(user: Any, *, user_field: str = "") -> Q:
    """A filter on the students whose sittings `user` sees (their baselines are readable to them).

    Narrower than `user_scope`: a proctor can add any student to a course they staff, so a roster
    alone must not open the student's institution-wide data; a sitting in the proctor's exams does.
    Fails closed like `user_scope` until exams registers the rule.
    """
    if _examinee_rule is not None:
        return _examinee_rule(user, user_field=user_field)
    if user is not None and getattr(user, "is_authenticated", False) and user.is_superuser:
        return Q()
    return Q(pk__in=[])


def user_scope(user: Any, *, user_field: str = "") -> Q:
    """A filter on the users `user` may see or act on; `user_field` is the path to the user ("user")."""
    if _rule is not None:
        return _rule(user, user_field=user_field)
    if user is not None and getattr(user, "is_authenticated", False) and user.is_superuser:
        return Q()
    return Q(pk__in=[])
