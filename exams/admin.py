"""Exams in the admin. Saves and deletes go through exams.services, like the REST API.

The ExamSession admin lives in monitoring/review/console.py: the review page shows events and alerts,
and exams must not import monitoring.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html

from exampulse.errors import DomainError
from exams import questions as question_rules
from exams import services
from exams.models import Exam
from exams.scoping import exam_scope

EDITABLE = list(services.EXAM_FIELDS)


class ExamAdminForm(forms.ModelForm):
    class Meta:
        model = Exam
        fields = EDITABLE

    def clean_questions(self):
        questions = self.cleaned_data.get("questions") or []
        try:
            questions = question_rules.validate_questions(questions)
        except ValidationError as exc:
            raise ValidationError(exc.messages) from exc
        # The service enforces this too; checking here turns it into a form error, not a failed save.
        instance = self.instance
        if instance.pk and questions != instance.questions and instance.sessions.exists():
            raise ValidationError("Questions cannot change once students have started the exam.")
        return questions


@admin.register(Exam)
class ExamAdmin(admin.ModelAdmin):
    form = ExamAdminForm
    list_display = (
        "name",
        "status",
        "duration_minutes",
        "total_questions",
        "monitoring_sensitivity",
        "scheduled_date",
        "created_by",
        "live_link",
    )
    list_filter = ("status", "monitoring_sensitivity", "is_calibration")
    search_fields = ("name",)
    readonly_fields = ("total_questions", "created_by", "created_at", "updated_at")
    fieldsets = (
        (None, {"fields": ("name", "description", "instructions", "status", "scheduled_date", "duration_minutes")}),
        (
            "Monitoring",
            {"fields": ("monitoring_sensitivity", "allow_tab_switch", "allow_copy_paste", "is_calibration")},
        ),
        ("Questions", {"fields": ("questions", "total_questions")}),
        ("Record", {"fields": ("created_by", "created_at", "updated_at")}),
    )

    def get_queryset(self, request):
        # Exams outside the proctor's courses are not listed and their pages answer like a deleted row.
        return super().get_queryset(request).filter(exam_scope(request.user))

    @admin.display(description="Live")
    def live_link(self, exam: Exam) -> str:
        # Resolved by name: the dashboard belongs to monitoring, which exams must not import.
        try:
            url = reverse("monitoring:exam-live", args=[exam.pk])
        except NoReverseMatch:
            return "-"
        return format_html('<a href="{}">Watch live</a>', url)

    def save_model(self, request, obj: Exam, form, change: bool) -> None:
        data = {key: form.cleaned_data[key] for key in EDITABLE if key in form.cleaned_data}
        if change:
            saved = services.exam_update(exam=obj, by=request.user, data=data)
        else:
            saved = services.exam_create(by=request.user, data=data)
        # The admin goes on to log and redirect with `obj`; point it at the row the service wrote.
        obj.pk = saved.pk
        obj.total_questions = saved.total_questions
        obj.created_by = saved.created_by

    def delete_model(self, request, obj: Exam) -> None:
        services.exam_delete(exam=obj, by=request.user)

    def delete_queryset(self, request, queryset) -> None:
        for exam in queryset:
            try:
                services.exam_delete(exam=exam, by=request.user)
            except DomainError as exc:
                messages.error(request, f"{exam.name}: {exc.message}")

    def delete_view(self, request, object_id, extra_context=None):
        try:
            return super().delete_view(request, object_id, extra_context)
        except DomainError as exc:
            # A taken exam keeps its evidence: say so instead of failing the request.
            messages.error(request, exc.message)
            return HttpResponseRedirect(reverse("admin:exams_exam_change", args=[object_id]))
