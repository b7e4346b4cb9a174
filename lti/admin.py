"""The LTI side in the admin. Registrations and their deployments are django-lti's own admin
(LTI tool > LTI registrations); here: who is linked to which account, courses, bound links."""

from __future__ import annotations

from django.contrib import admin
from lti_tool.models import LtiUser

from lti.models import CourseLink, ExamLink


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
