from django.contrib import admin

from exams.models import Exam, ExamSession


@admin.register(Exam)
class ExamAdmin(admin.ModelAdmin):
    list_display = ("name", "status", "duration_minutes", "monitoring_sensitivity", "scheduled_date", "created_by")
    list_filter = ("status", "monitoring_sensitivity", "is_calibration")
    search_fields = ("name",)


@admin.register(ExamSession)
class ExamSessionAdmin(admin.ModelAdmin):
    list_display = ("id", "exam", "user", "status", "risk_score", "risk_level", "review_status", "started_at")
    list_filter = ("status", "risk_level", "review_status", "exam")
    search_fields = ("user__email", "user__name", "user__roll_number")
    ordering = ("-risk_score",)
