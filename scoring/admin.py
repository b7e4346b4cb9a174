"""Baselines in the admin: read by proctors; changed only by calibration and the audited reset API."""

from django.contrib import admin

from accounts.scoping import user_scope
from scoring.models import Baseline
from scoring.services import baseline_status


@admin.register(Baseline)
class BaselineAdmin(admin.ModelAdmin):
    list_display = (
        "user",
        "status",
        "sample_count",
        "typing_speed_wpm",
        "mouse_speed_pxs",
        "avg_question_time_sec",
        "tab_switch_rate",
        "updated_at",
    )
    list_select_related = ("user",)
    search_fields = ("user__email", "user__name", "user__roll_number")
    ordering = ("user__name",)

    def get_queryset(self, request):
        # The same rule as GET /api/baselines/<user_id>: students in the proctor's courses or in none.
        return super().get_queryset(request).filter(user_scope(request.user, user_field="user"))

    @admin.display(description="Status")
    def status(self, baseline: Baseline) -> str:
        # The API's status too: one truth (a reset baseline says "reset", not "collecting").
        return baseline_status(baseline)

    # A hand-edited baseline would quietly change every later score of the student.
    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in Baseline._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
