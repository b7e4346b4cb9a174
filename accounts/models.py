"""The ExamPulse user: email login, a role, and the spec's profile fields."""

from __future__ import annotations

from django.contrib.auth.base_user import BaseUserManager
from django.contrib.auth.models import AbstractBaseUser, PermissionsMixin
from django.db import models
from django.db.models.functions import Lower

from accounts.accommodations import validate_accommodations


class Role(models.TextChoices):
    STUDENT = "student", "Student"
    PROCTOR = "proctor", "Proctor"


class UserManager(BaseUserManager):
    use_in_migrations = True

    def get_by_natural_key(self, username: str):
        # Email login is case-insensitive: Ann@X.org and ann@x.org are one account.
        return self.get(email__iexact=username)

    def _create(self, email: str, password: str | None, **fields) -> User:
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **fields)
        user.set_password(password)
        user.full_clean(exclude=["password"])
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **fields) -> User:
        fields.setdefault("role", Role.STUDENT)
        fields.setdefault("is_staff", False)
        fields.setdefault("is_superuser", False)
        return self._create(email, password, **fields)

    def create_superuser(self, email: str, password: str | None = None, **fields) -> User:
        fields.setdefault("role", Role.PROCTOR)
        fields["is_staff"] = True
        fields["is_superuser"] = True
        return self._create(email, password, **fields)


class User(AbstractBaseUser, PermissionsMixin):
    """A student or a proctor. The spec's users table; `password` holds Django's hash."""

    name = models.CharField(max_length=150)
    email = models.EmailField(max_length=254, unique=True)
    roll_number = models.CharField(max_length=50, blank=True, default="")
    department = models.CharField(max_length=100, blank=True, default="")
    semester = models.PositiveSmallIntegerField(null=True, blank=True)
    phone = models.CharField(max_length=30, blank=True, default="")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.STUDENT, db_index=True)
    accommodations = models.JSONField(default=dict, blank=True, validators=[validate_accommodations])
    is_active = models.BooleanField(default=True)
    # Staff status opens the Django admin; only proctors and operators get it.
    is_staff = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["name"]

    class Meta:
        db_table = "users"
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(Lower("email"), name="users_email_ci_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>"

    @property
    def is_proctor(self) -> bool:
        return self.role == Role.PROCTOR

    @property
    def is_student(self) -> bool:
        return self.role == Role.STUDENT


class AuditEntry(models.Model):
    """One recorded staff action: who did what to which object, when, and why.

    Apps record their proctor actions here (review status, accommodations, warnings,
    terminations, alert resolutions) through `accounts.services.audit_record`.
    """

    actor = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="audit_entries")
    action = models.CharField(max_length=50, db_index=True)
    target_type = models.CharField(max_length=50)
    target_id = models.CharField(max_length=50)
    details = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        db_table = "audit_entries"
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["target_type", "target_id"])]
        verbose_name_plural = "audit entries"

    def __str__(self) -> str:
        return f"{self.action} {self.target_type}#{self.target_id} by {self.actor_id}"


class RevokedAccessToken(models.Model):
    """An access token revoked before its expiry (logout), by its `jti` claim.

    SimpleJWT's blacklist covers refresh tokens only; access tokens are checked against this table
    by `accounts.authentication` (REST) and `accounts.ws_auth` (sockets). A row is useless once the
    token has expired, so `expires_at` lets logout purge the table as it goes.
    """

    jti = models.CharField(max_length=255, unique=True)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="revoked_access_tokens")
    expires_at = models.DateTimeField(db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "revoked_access_tokens"

    def __str__(self) -> str:
        return f"{self.jti} (until {self.expires_at:%Y-%m-%d %H:%M})"
