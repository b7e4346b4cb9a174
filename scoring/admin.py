"""Baselines and their samples in the admin: read by proctors (students they examine); reset by
superusers (an audited action); changed otherwise only by calibration and the student's own samples."""

from django.contrib import admin, messages

from accounts.scoping import examinee_scope
from scoring.models import Baseline, BaselineSample
from scoring.services import baseline_reset, baseline_status


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
    actions = ("reset_baselines",)

    def get_queryset(self, request):
        # The same rule as GET /api/baselines/<user_id>: students who sat an exam the proctor sees.
        return super().get_queryset(request).filter(examinee_scope(request.user, user_field="user"))

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

    def get_actions(self, request):
        actions = super().get_actions(request)
        if not request.user.is_superuser:
            actions.pop("reset_baselines", None)
        return actions

    @admin.action(description="Reset the selected baselines (superusers; audited)")
    def reset_baselines(self, request, queryset):
        done = 0
        for baseline in queryset.select_related("user"):
            # The service checks the superuser again and records each reset with the baseline as it was.
            done += baseline_reset(user=baseline.user, actor=request.user, via="admin") is not None
        self.message_user(request, f"{done} baseline(s) reset; they are collected again.", messages.SUCCESS)


@admin.register(BaselineSample)
class BaselineSampleAdmin(admin.ModelAdmin):
    """Every sample with its provenance: read-only evidence."""

    list_display = ("user", "source", "calibration_session_id", "via", "recorded_at", "discarded_at")
    list_filter = ("source", "recorded_at")
    list_select_related = ("user",)
    search_fields = ("user__email", "user__name", "user__roll_number", "via")
    ordering = ("-recorded_at", "-id")

    def get_queryset(self, request):
        return super().get_queryset(request).filter(examinee_scope(request.user, user_field="user"))

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
