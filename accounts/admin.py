import csv
import json

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import UserChangeForm, UserCreationForm
from django.http import HttpResponse
from django.utils import timezone

from accounts.models import AuditEntry, User
from accounts.scoping import user_scope
from accounts.services import audit_record_export, user_update_accommodations


class ExamPulseUserCreationForm(UserCreationForm):
    class Meta:
        model = User
        fields = ("email", "name", "role")


class ExamPulseUserChangeForm(UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    form = ExamPulseUserChangeForm
    add_form = ExamPulseUserCreationForm
    ordering = ("email",)
    list_display = ("email", "name", "role", "roll_number", "department", "is_staff", "is_active")
    list_filter = ("role", "is_staff", "is_active", "department")
    search_fields = ("email", "name", "roll_number")
    readonly_fields = ("created_at", "updated_at", "last_login")
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Profile", {"fields": ("name", "roll_number", "department", "semester", "phone", "role")}),
        ("Accommodations", {"fields": ("accommodations",)}),
        ("Access", {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")}),
        ("Dates", {"fields": ("last_login", "created_at", "updated_at")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "name", "role", "password1", "password2")}),)

    def get_queryset(self, request):
        # The same rule as GET /api/users/: a proctor sees students in their courses or in none.
        return super().get_queryset(request).filter(user_scope(request.user))

    def save_model(self, request, obj: User, form, change: bool) -> None:
        # Institution-wide accommodations change through their audited service, like over REST; the
        # rest of the form saves as usual (only superusers may change users here).
        if not change or "accommodations" not in form.changed_data:
            super().save_model(request, obj, form, change)
            return
        wanted = obj.accommodations
        obj.accommodations = form.initial.get("accommodations") or {}
        super().save_model(request, obj, form, change)
        user_update_accommodations(student=obj, by=request.user, accommodations=wanted, via="admin")
        obj.refresh_from_db(fields=["accommodations"])


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    """The audit trail: read-only, filterable, searchable, exportable as CSV."""

    list_display = ("created_at", "actor", "action", "target_type", "target_id", "summary")
    list_filter = ("action", "target_type", ("actor", admin.RelatedOnlyFieldListFilter), "created_at")
    search_fields = ("actor__email", "actor__name", "action", "target_type", "target_id")
    date_hierarchy = "created_at"
    list_select_related = ("actor",)
    readonly_fields = ("created_at", "actor", "action", "target_type", "target_id", "details")
    actions = ["export_csv"]

    def get_queryset(self, request):
        # Entries name targets by type and id across every app, so they cannot be scoped by course
        # here; a proctor sees the entries of their own actions, superusers the whole trail.
        queryset = super().get_queryset(request)
        return queryset if request.user.is_superuser else queryset.filter(actor_id=request.user.pk)

    @admin.display(description="details")
    def summary(self, obj: AuditEntry) -> str:
        text = json.dumps(obj.details, ensure_ascii=False, sort_keys=True)
        return text if len(text) <= 120 else text[:117] + "..."

    @admin.action(description="Export selected entries as CSV")
    def export_csv(self, request, queryset):
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
        response["Content-Disposition"] = f'attachment; filename="audit-{stamp}.csv"'
        writer = csv.writer(response)
        writer.writerow(
            ["id", "created_at", "actor_id", "actor_email", "action", "target_type", "target_id", "details"]
        )
        entries = list(queryset.select_related("actor").order_by("created_at", "id"))
        for entry in entries:
            writer.writerow(
                [
                    entry.pk,
                    entry.created_at.isoformat(),
                    entry.actor_id or "",
                    _csv_safe(entry.actor.email if entry.actor else ""),
                    _csv_safe(entry.action),
                    _csv_safe(entry.target_type),
                    _csv_safe(entry.target_id),
                    _csv_safe(json.dumps(entry.details, ensure_ascii=False, sort_keys=True)),
                ]
            )
        # Recorded after the rows are read, so the export never lists its own entry.
        audit_record_export(actor=request.user, model=AuditEntry, ids=[entry.pk for entry in entries])
        return response

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        # An audit trail that staff can edit or prune proves nothing.
        return False


def _csv_safe(value: str) -> str:
    """Neutralise spreadsheet formula injection: a cell starting with = + - @ is read as text."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value
