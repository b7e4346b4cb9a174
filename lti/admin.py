"""The LTI side in the admin. Registrations and their deployments are django-lti's own admin
(LTI tool > LTI registrations); here: who is linked to which account, courses, bound links."""

from __future__ import annotations

from django.contrib import admin
from lti_tool.models import LtiUser

from accounts.services import audit_record_bulk
from lti.models import CourseLink, ExamLink, ScoreAttempt, ScoreDelivery, ScoreStatus
from lti.tasks import score_send_after_commit


@admin.register(LtiUser)
class LtiUserAdmin(admin.ModelAdmin):
    """An LMS identity (issuer, sub) and its ExamPulse account. A superuser may link an identity to an
    existing account here (launches never match accounts by email)."""

    list_display = ["sub", "name", "email", "registration", "auth_user"]
    list_filter = ["registration"]
    search_fields = ["sub", "name", "email", "auth_user__email"]
    raw_id_fields = ["auth_user"]
    readonly_fields = ["registration", "sub", "given_name", "family_name", "name", "email", "picture_url"]
    fields = [*readonly_fields, "auth_user"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return request.user.is_superuser


@admin.register(CourseLink)
class CourseLinkAdmin(admin.ModelAdmin):
    list_display = ["context", "course", "created_at", "synced_at"]
    readonly_fields = ["context", "course", "created_at", "synced_at"]

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(ExamLink)
class ExamLinkAdmin(admin.ModelAdmin):
    list_display = ["resource_link", "exam", "bound_by", "bound_at", "lineitem_url"]
    readonly_fields = ["resource_link", "exam", "bound_by", "bound_at", "lineitem_url"]

    def has_add_permission(self, request) -> bool:
        return False


class ScoreAttemptInline(admin.TabularInline):
    model = ScoreAttempt
    extra = 0
    can_delete = False
    readonly_fields = ["at", "status_code", "error", "duration_ms"]

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(ScoreDelivery)
class ScoreDeliveryAdmin(admin.ModelAdmin):
    """Grades sent to the LMS: each score with every attempt (status, error), and a retry-now action."""

    list_display = ["session", "user_sub", "status", "attempts", "last_status_code", "next_attempt_at", "created_at"]
    list_filter = ["status"]
    search_fields = ["user_sub", "session__user__email"]
    readonly_fields = [field.name for field in ScoreDelivery._meta.fields]
    inlines = [ScoreAttemptInline]
    actions = ["retry_now"]

    def has_add_permission(self, request) -> bool:
        return False

    @admin.action(description="Retry now (failed or given-up scores)")
    def retry_now(self, request, queryset) -> None:
        rows = list(queryset.filter(status__in=[ScoreStatus.FAILED, ScoreStatus.GAVE_UP]))
        for row in rows:
            ScoreDelivery.objects.filter(pk=row.pk).update(status=ScoreStatus.FAILED, next_attempt_at=None)
        score_send_after_commit(deliveries=rows)
        audit_record_bulk(
            actor=request.user, action="lti_score_retry", model=ScoreDelivery, details={"ids": [r.pk for r in rows]}
        )
        self.message_user(request, f"{len(rows)} score(s) queued again.")
