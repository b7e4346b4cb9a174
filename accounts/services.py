"""Every state change of a user goes through one of these functions."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from axes.utils import reset as axes_reset
from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.encoding import force_bytes, force_str
from django.utils.http import urlsafe_base64_decode, urlsafe_base64_encode
from rest_framework.exceptions import AuthenticationFailed
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.serializers import TokenRefreshSerializer
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from accounts.accommodations import validate_accommodations
from accounts.exceptions import InvalidCredentials, InvalidResetLink, InvalidToken, LoginLockedOut, SuperuserOnly
from accounts.models import AuditEntry, RevokedAccessToken, Role, User
from accounts.throttling import lockout_message
from exampulse.platform.errors import Conflict

PROFILE_FIELDS = ("name", "roll_number", "department", "semester", "phone")
# Made by monitoring's migration 0003_proctors_group with exactly the admin permissions proctors need.
PROCTORS_GROUP = "Proctors"


def _check_password(password: str, user: User) -> None:
    """Run the password policy, reporting every failed rule under the `password` field."""
    try:
        validate_password(password, user=user)
    except ValidationError as exc:
        raise ValidationError({"password": exc.messages}) from exc


def _normalise_email(email: str) -> str:
    return User.objects.normalize_email(email.strip()).lower()


@transaction.atomic
def user_register(*, email: str, password: str, name: str, **profile: Any) -> User:
    """Create a student account; public registration never creates proctors."""
    email = _normalise_email(email)
    if User.objects.filter(email__iexact=email).exists():
        raise Conflict("An account with this email already exists.", details={"email": ["already registered"]})
    candidate = User(email=email, name=name, role=Role.STUDENT, **profile)
    _check_password(password, candidate)
    try:
        return User.objects.create_user(email=email, password=password, name=name, role=Role.STUDENT, **profile)
    except IntegrityError as exc:  # a concurrent registration won the race
        raise Conflict("An account with this email already exists.") from exc


@transaction.atomic
def proctor_create(*, email: str, password: str, name: str, staff: bool = True) -> User:
    """Create a proctor account (staff-only path: command or admin)."""
    email = _normalise_email(email)
    candidate = User(email=email, name=name, role=Role.PROCTOR)
    _check_password(password, candidate)
    user = User.objects.create_user(email=email, password=password, name=name, role=Role.PROCTOR, is_staff=staff)
    if staff:
        proctor_add_to_group(user=user)
    return user


@transaction.atomic
def student_create_invited(*, email: str, name: str, roll_number: str = "") -> User:
    """Create a student with an unusable password: they choose one through a set-password link (roster import)."""
    email = _normalise_email(email)
    if User.objects.filter(email__iexact=email).exists():
        raise Conflict("An account with this email already exists.", details={"email": ["already registered"]})
    return User.objects.create_user(
        email=email, password=None, name=name.strip(), role=Role.STUDENT, roll_number=roll_number.strip()
    )


def proctor_add_to_group(*, user: User) -> bool:
    """Give a staff proctor the "Proctors" group's admin permissions; False if the group is missing."""
    group = Group.objects.filter(name=PROCTORS_GROUP).first()
    if group is None:
        return False
    user.groups.add(group)
    return True


def user_update_profile(*, user: User, data: dict[str, Any]) -> User:
    """Change the user's own contact details; role, email and accommodations are not among them."""
    changed = [field for field in PROFILE_FIELDS if field in data]
    for field in changed:
        setattr(user, field, data[field])
    if changed:
        user.full_clean(exclude=["password"])
        user.save(update_fields=[*changed, "updated_at"])
    return user


def user_authenticate(*, request: HttpRequest, email: str, password: str) -> User:
    """The active user with this email and password; refuses while axes has the account or address locked.

    The request goes to `authenticate()` because axes reads the client address from it and counts
    the failure (accounts.throttling).
    """
    user = authenticate(request, username=_normalise_email(email), password=password)
    if user is not None:
        return user
    # Axes flags the request when this attempt was refused, or was the one that reached a limit.
    if getattr(request, "axes_locked_out", False):
        raise LoginLockedOut(lockout_message())
    raise InvalidCredentials()


def tokens_issue(*, user: User) -> dict[str, str]:
    """Issue a refresh/access pair for the user."""
    refresh = RefreshToken.for_user(user)
    return {"token": str(refresh.access_token), "refresh": str(refresh)}


def tokens_refresh(*, refresh: str) -> dict[str, str]:
    """A new access token and the rotated refresh token, for a valid refresh token of an account that
    still exists and is active; InvalidToken (401, `details.code` says why) for anything else."""
    try:
        token = RefreshToken(refresh)
    except TokenError as exc:
        raise InvalidToken(details={"code": "token_not_valid"}) from exc
    user_id = str(token.get(jwt_settings.USER_ID_CLAIM, ""))
    user = User.objects.filter(pk=int(user_id)).first() if user_id.isdigit() and len(user_id) < 19 else None
    if user is None:
        raise InvalidToken("The account this token belongs to no longer exists.", details={"code": "user_not_found"})
    if not user.is_active:
        raise InvalidToken("This account is deactivated.", details={"code": "user_inactive"})
    serializer = TokenRefreshSerializer(data={"refresh": refresh})
    try:
        serializer.is_valid(raise_exception=True)
    except TokenError as exc:
        raise InvalidToken(details={"code": "token_not_valid"}) from exc
    except User.DoesNotExist as exc:  # deleted between the check above and SimpleJWT's own lookup
        raise InvalidToken(
            "The account this token belongs to no longer exists.", details={"code": "user_not_found"}
        ) from exc
    except AuthenticationFailed as exc:  # deactivated in between
        raise InvalidToken("This account is deactivated.", details={"code": "user_inactive"}) from exc
    data = serializer.validated_data
    return {"token": data["access"], "refresh": data.get("refresh")}


@transaction.atomic
def tokens_revoke(*, user: User, refresh: str, access: AccessToken) -> None:
    """Log one device out: blacklist its refresh token and deny its access token until that expires.

    Other devices' tokens are untouched. Expired denylist rows are purged on the way, so the table
    holds at most the access lifetime's worth of logouts.
    """
    try:
        refresh_token = RefreshToken(refresh)
    except TokenError as exc:
        raise InvalidToken() from exc
    if str(refresh_token.get(jwt_settings.USER_ID_CLAIM)) != str(user.pk):
        raise InvalidToken("That refresh token does not belong to you.")
    refresh_token.blacklist()
    now = timezone.now()
    RevokedAccessToken.objects.filter(expires_at__lte=now).delete()
    RevokedAccessToken.objects.get_or_create(
        jti=access[jwt_settings.JTI_CLAIM],
        defaults={"user": user, "expires_at": datetime.fromtimestamp(access["exp"], tz=UTC)},
    )


def tokens_revoke_all(*, user: User) -> int:
    """Blacklist every outstanding refresh token of the user (logout everywhere, password change)."""
    count = 0
    for token in OutstandingToken.objects.filter(user=user).exclude(blacklistedtoken__isnull=False):
        BlacklistedToken.objects.get_or_create(token=token)
        count += 1
    return count


@transaction.atomic
def user_change_password(*, user: User, current_password: str, new_password: str) -> int:
    """Set a new password after checking the current one; every refresh token of the user is revoked.

    Access tokens carry a hash of the password hash (SimpleJWT's CHECK_REVOKE_TOKEN), so they
    stop working too. Returns how many refresh tokens were revoked.
    """
    if not user.check_password(current_password):
        raise ValidationError({"current_password": ["The current password is incorrect."]})
    if current_password == new_password:
        raise ValidationError({"new_password": ["The new password must differ from the current one."]})
    try:
        validate_password(new_password, user=user)
    except ValidationError as exc:
        raise ValidationError({"new_password": exc.messages}) from exc
    user.set_password(new_password)
    user.save(update_fields=["password", "updated_at"])
    return tokens_revoke_all(user=user)


def audit_record(*, actor: User | None, action: str, target: Any, details: dict[str, Any] | None = None) -> AuditEntry:
    """Record one staff action on a model instance; returns the AuditEntry."""
    return AuditEntry.objects.create(
        actor=actor,
        action=action,
        target_type=target._meta.model_name,
        target_id=str(target.pk),
        details=details or {},
    )


def audit_record_bulk(*, actor: User | None, action: str, model: type, details: dict[str, Any]) -> AuditEntry:
    """Record one staff action on many rows of a model at once (a retention purge); returns the AuditEntry."""
    return AuditEntry.objects.create(
        actor=actor, action=action, target_type=model._meta.model_name, target_id="", details=details
    )


# An export's entry lists at most this many ids (the count is always exact): a trail row stays small.
EXPORT_IDS_LISTED = 1000


def audit_record_export(*, actor: User | None, model: type, ids: list[Any]) -> AuditEntry:
    """Record that staff exported these rows (personal data leaving the system); returns the AuditEntry."""
    return AuditEntry.objects.create(
        actor=actor,
        action="export_csv",
        target_type=model._meta.model_name,
        target_id="",
        details={"count": len(ids), "ids": list(ids[:EXPORT_IDS_LISTED])},
    )


@transaction.atomic
def user_update_accommodations(
    *, student: User, by: User, accommodations: Any, partial: bool = False, via: str = "api"
) -> User:
    """A superuser sets (PUT) or merges into (PATCH) a student's institution-wide accommodations,
    which apply to every exam of every course; audited with before, after and door (`via`).

    SuperuserOnly for anyone else: a proctor's reach is their courses (exams.accommodations sets
    accommodations per course and per exam)."""
    if not getattr(by, "is_superuser", False):
        raise SuperuserOnly(
            "Institution-wide accommodations apply in every course: only a superuser sets them. "
            "Use /api/courses/<id>/accommodations/<user_id> for your course."
        )
    student = User.objects.select_for_update().get(pk=student.pk)
    previous = dict(student.accommodations or {})
    incoming = validate_accommodations(accommodations)
    student.accommodations = validate_accommodations({**previous, **incoming} if partial else incoming)
    student.save(update_fields=["accommodations", "updated_at"])
    if previous != student.accommodations:
        audit_record(
            actor=by,
            action="accommodations_update",
            target=student,
            details={"level": "institution", "from": previous, "to": student.accommodations, "via": via},
        )
    return student


# --- password reset ----------------------------------------------------------------------------


def password_reset_page() -> str:
    """Where set-password links point: PASSWORD_RESET_URL, else this server's own page at PUBLIC_URL/reset."""
    return settings.PASSWORD_RESET_URL or f"{settings.PUBLIC_URL}/reset"


def password_reset_link(*, user: User) -> str:
    """A one-time set-password link: `<password_reset_page>?uid=...&token=...` (Django's token generator).

    The token hashes the password and last login, so it stops working once the password changes.
    """
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    page = password_reset_page()
    separator = "&" if "?" in page else "?"
    return f"{page}{separator}uid={uid}&token={token}"


def password_link_send(*, user: User, link: str, new_account: bool = False) -> None:
    """Email the set-password link to the user through Django's email backend."""
    if new_account:
        subject = "Your ExamPulse account"
        body = (
            f"Hello {user.name},\n\nAn ExamPulse account was created for you ({user.email}). "
            f"Choose your password here (the link works once):\n\n{link}\n"
        )
    else:
        subject = "Reset your ExamPulse password"
        body = (
            f"Hello {user.name},\n\nSomeone asked to reset the password of {user.email}. If it was you, "
            f"choose a new password here (the link works once):\n\n{link}\n\n"
            "If it was not you, ignore this email: your password is unchanged.\n"
        )
    send_mail(subject, body, None, [user.email])


def password_reset_request(*, email: str) -> User | None:
    """Email a reset link when an active account has this email; the caller's reply never says which.

    For an unknown email a token is still made for a throwaway user, so both paths do the same work
    apart from the sending itself. Returns the user (for tests and logs), never for the client.
    """
    email = _normalise_email(email)
    user = User.objects.filter(email__iexact=email, is_active=True).first()
    if user is None:
        default_token_generator.make_token(User(pk=0, email=email, password="!"))  # noqa: S106 - an unusable hash
        return None
    password_link_send(user=user, link=password_reset_link(user=user))
    audit_record(actor=None, action="password_reset_request", target=user, details={})
    return user


def _user_from_uid(uid: str) -> User | None:
    try:
        pk = int(force_str(urlsafe_base64_decode(uid)))
    except (TypeError, ValueError, OverflowError):
        return None
    if not 0 < pk <= 2**63 - 1:
        return None
    return User.objects.filter(pk=pk, is_active=True).first()


def password_reset_link_valid(*, uid: str, token: str) -> bool:
    """Whether a set-password link would still be taken (read only: the page asks before showing its form)."""
    user = _user_from_uid(uid)
    return user is not None and default_token_generator.check_token(user, token)


@transaction.atomic
def password_reset_confirm(*, uid: str, token: str, new_password: str) -> User:
    """Set a new password from a reset link: the link works once, every token is revoked, any lockout lifted."""
    user = _user_from_uid(uid)
    if user is None or not default_token_generator.check_token(user, token):
        raise InvalidResetLink()
    user = User.objects.select_for_update().get(pk=user.pk)
    # Re-checked under the lock: two concurrent confirms of one link cannot both set a password.
    if not default_token_generator.check_token(user, token):
        raise InvalidResetLink()
    try:
        validate_password(new_password, user=user)
    except ValidationError as exc:
        raise ValidationError({"new_password": exc.messages}) from exc
    user.set_password(new_password)
    user.save(update_fields=["password", "updated_at"])
    revoked = tokens_revoke_all(user=user)
    # Axes keys accounts by the lower-cased email (accounts.throttling.login_username).
    unlocked = axes_reset(username=user.email.lower())
    audit_record(
        actor=user,
        action="password_reset",
        target=user,
        details={"refresh_tokens_revoked": revoked, "lockout_records_cleared": unlocked},
    )
    return user
