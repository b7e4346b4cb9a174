"""Grading short answers on the review console: the form beside each answer and its reference text,
the "Needs grading" list filter, and the admin view that posts to `exams.grading.session_grade`.

Kept apart from console.py so the session admin gains grading by one mixin and one filter, and the
review form and verdict views there stay as they are.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.http import HttpRequest, HttpResponse
from django.urls import path

from exampulse.platform.errors import DomainError
from exams import grading as exam_grading
from exams import questions as question_rules
from exams.models import ExamSession, GradingStatus

NOTE_MAX_LENGTH = exam_grading.GRADE_NOTE_MAX_LENGTH


class GradingForm(forms.Form):
    """One points input per short question of the session's exam (0 to its points) and a note.

    Field names are positional (`points_0`, ...) because question ids are free text.
    """

    note = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2, "cols": 60}),
        required=False,
        max_length=NOTE_MAX_LENGTH,
        label="Grading note",
    )

    def __init__(self, session: ExamSession, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.session = session
        self.shorts = list(question_rules.short_questions(session.exam.questions).values())
        per_question = (session.grading or {}).get("per_question") or {}
        for index, question in enumerate(self.shorts):
            points = question.get("points", 1)
            self.fields[self.field_name(index)] = forms.FloatField(
                required=False,
                min_value=0,
                max_value=points,
                label=f"Points for {question['id']} (0 to {points:g})",
                initial=(per_question.get(question["id"]) or {}).get("awarded"),
                widget=forms.NumberInput(attrs={"step": "any", "min": 0, "max": points}),
            )

    @staticmethod
    def field_name(index: int) -> str:
        return f"points_{index}"

    def changed_scores(self) -> dict[str, float]:
        """The points entered that differ from the ones already given (blank inputs are left as they are)."""
        per_question = (self.session.grading or {}).get("per_question") or {}
        scores = {}
        for index, question in enumerate(self.shorts):
            value = self.cleaned_data.get(self.field_name(index))
            if value is None:
                continue
            points = int(value) if float(value).is_integer() else value
            if (per_question.get(question["id"]) or {}).get("awarded") != points:
                scores[question["id"]] = points
        return scores


def grading_rows(session: ExamSession, form: GradingForm) -> list[dict[str, Any]]:
    """Each short question with the student's answer, the reference text, max points, what it has and its input."""
    per_question = (session.grading or {}).get("per_question") or {}
    rows = []
    for index, question in enumerate(form.shorts):
        entry = per_question.get(question["id"]) or {}
        rows.append(
            {
                "id": question["id"],
                "text": question.get("text", ""),
                "answer": (session.answers or {}).get(question["id"]),
                "reference": question.get("answer") or "",
                "points": question.get("points", 1),
                "awarded": entry.get("awarded"),
                "graded_by": (entry.get("graded_by") or {}).get("name"),
                "graded_at": entry.get("graded_at"),
                "field": form[form.field_name(index)],
            }
        )
    return rows


class NeedsGradingFilter(admin.SimpleListFilter):
    """Finished attempts whose short answers wait for points; reset attempts never need grading."""

    title = "grading"
    parameter_name = "grading_status"

    def lookups(self, request, model_admin):
        return (
            (GradingStatus.PENDING, "Needs grading"),
            (GradingStatus.COMPLETE, "Graded"),
            (GradingStatus.AUTO, "No short answers"),
        )

    def queryset(self, request, queryset):
        value = self.value()
        if value not in GradingStatus.values:
            return queryset
        queryset = queryset.filter(grading_status=value)
        if value == GradingStatus.PENDING:
            queryset = queryset.filter(voided=False)
        return queryset


class GradingAdminMixin:
    """Adds grading to the session admin: the grading section's context on the change page and
    the POST view behind its form. Needs the admin's `_session_for_change` and `_back`."""

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("<int:session_id>/grade/", wrap(self.grade_view), name="exams_examsession_grade"),
            *super().get_urls(),
        ]

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None and not add:
            context.update(self.grading_context(request, obj))
        return super().render_change_form(request, context, add=add, change=change, form_url=form_url, obj=obj)

    def grading_context(self, request: HttpRequest, session: ExamSession) -> dict[str, Any]:
        form = GradingForm(session)
        return {
            "grading_form": form,
            "grading_rows": grading_rows(session, form),
            "can_grade": bool(form.shorts)
            and not session.is_open
            and not session.voided
            and self.has_change_permission(request, session),
        }

    def grade_view(self, request: HttpRequest, session_id: int) -> HttpResponse:
        session = self._session_for_change(request, session_id)
        form = GradingForm(session, request.POST)
        if not form.is_valid():
            errors = "; ".join(
                f"{form.fields[name].label if name in form.fields else 'Form'}: {' '.join(errs)}"
                for name, errs in form.errors.items()
            )
            self.message_user(request, f"Grading not saved: {errors}", messages.ERROR)
            return self._back(session_id, "#grading")
        scores = form.changed_scores()
        if not scores:
            self.message_user(request, "Nothing to save: no points were entered or changed.", messages.WARNING)
            return self._back(session_id, "#grading")
        try:
            graded = exam_grading.session_grade(
                session=session, by=request.user, scores=scores, note=form.cleaned_data["note"]
            )
        except DomainError as exc:
            detail = "; ".join(f"{qid}: {why}" for qid, why in exc.details.items() if isinstance(why, str))
            self.message_user(request, f"{exc.message} {detail}".strip(), messages.ERROR)
        else:
            self.message_user(
                request,
                f"Graded {', '.join(scores)}: score {graded.score:g} of {graded.max_score:g} "
                f"({graded.get_grading_status_display().lower()}).",
                messages.SUCCESS,
            )
        return self._back(session_id, "#grading")
