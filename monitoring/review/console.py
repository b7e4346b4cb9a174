"""The proctor's review console in the Django admin: sessions by risk, their timeline, alerts and chart.

Every change made here goes through the same services as REST and the socket: reviews through
`exams.reviews.session_review`, alert resolution through `monitoring.proctoring.alerts.alert_resolve`,
rescoring through `monitoring.ingest.risk.session_rescore`. Forms never save model rows directly.
"""

from __future__ import annotations

import csv

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html

from accounts.services import audit_record_export
from exampulse.platform.errors import DomainError
from exams import reasons
from exams import reviews as exam_reviews
from exams import sessions as exam_sessions
from exams.accommodations import applied_explained
from exams.exceptions import VerdictAwaitingSecondReview, VerdictConfirmed
from exams.models import ExamSession, ReviewStatus, SecondReview
from exams.scoping import exam_scope
from monitoring.ingest.risk import session_rescore_recorded
from monitoring.models import Alert, Event
from monitoring.proctoring.alerts import alert_resolve
from monitoring.pushes import send_after_commit
from monitoring.review import charts
from monitoring.review import selectors as review
from monitoring.review.grading import GradingAdminMixin, NeedsGradingFilter
from scoring.engine import alert_threshold
from scoring.snapshot import snapshot_explained

LEVEL_TEXT = {"low": "Low", "medium": "Medium", "high": "High"}
# Why a session's verdict cannot be set again (exams.reviews.session_review refuses it), by second-review state.
REVIEW_LOCKED = {
    SecondReview.REQUIRED: VerdictAwaitingSecondReview.default_message,
    SecondReview.CONFIRMED: VerdictConfirmed.default_message,
}
CSS = {"all": ("monitoring/admin.css",)}


def risk_badge(level: str, score: float | None = None) -> str:
    """A colour-coded risk level that also says its level in words (never colour alone)."""
    text = LEVEL_TEXT.get(level, level or "-")
    if score is None:
        return format_html('<span class="risk-badge risk-{}">{}</span>', level, text)
    return format_html('<span class="risk-badge risk-{}">{} · {}</span>', level, text, f"{score:.2f}")


def _reason_field(**kwargs) -> forms.ChoiceField:
    """A select of the incident-reason taxonomy, grouped by category, with an empty first choice."""
    return forms.ChoiceField(
        choices=[("", "—"), *reasons.grouped_choices()], required=False, label="Incident reason", **kwargs
    )


def _field_of(exc: DomainError, *names: str) -> str | None:
    return next((name for name in names if name in exc.details), None)


class ReviewForm(forms.Form):
    review_status = forms.ChoiceField(choices=ReviewStatus.choices, label="Review outcome")
    reason_code = _reason_field(help_text="Required for suspicious and violation.")
    note = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        required=False,
        max_length=2000,
        help_text="Why: required for suspicious and violation. A violation then needs a second proctor.",
    )

    def clean(self):
        data = super().clean()
        if "review_status" in data:
            # The service's rule, checked here too so the form shows it next to the field.
            try:
                exam_reviews.review_validate(
                    review_status=data["review_status"],
                    note=data.get("note") or "",
                    reason_code=data.get("reason_code") or "",
                )
            except DomainError as exc:
                self.add_error(_field_of(exc, "note", "reason_code"), exc.message)
        return data


class SecondReviewForm(forms.Form):
    decision = forms.ChoiceField(
        choices=[("confirm", "Confirm the violation"), ("overturn", "Overturn it")],
        widget=forms.RadioSelect,
        label="Decision",
    )
    review_status = forms.ChoiceField(
        choices=[("", "—"), (ReviewStatus.CLEAN, "Clean"), (ReviewStatus.SUSPICIOUS, "Suspicious")],
        required=False,
        label="New outcome (when overturning)",
    )
    reason_code = _reason_field(help_text="Required when overturning to suspicious.")
    note = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        required=False,
        max_length=2000,
        help_text="Why: required when overturning.",
    )


class ResolveForm(forms.Form):
    note = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}), required=False, max_length=2000, label="Resolution note"
    )


def _action_form(modeladmin, request, queryset, *, form_class, title: str, action: str, apply):
    """The admin's two-step action: show a form for the selected rows, then apply it to each."""
    form = form_class(request.POST if "apply" in request.POST else None)
    if "apply" in request.POST and form.is_valid():
        done, failed = 0, []
        for obj in queryset:
            try:
                apply(obj, form.cleaned_data)
                done += 1
            except DomainError as exc:
                failed.append(f"#{obj.pk}: {exc.message}")
        modeladmin.message_user(request, f"{title}: {done} done.", messages.SUCCESS)
        for failure in failed:
            modeladmin.message_user(request, failure, messages.ERROR)
        return None
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": title,
        "form": form,
        "queryset": queryset,
        "action": action,
        "opts": modeladmin.model._meta,
        "action_checkbox_name": ACTION_CHECKBOX_NAME,
    }
    return TemplateResponse(request, "admin/monitoring/action_form.html", context)


class ScopedAdmin(admin.ModelAdmin):
    """Rows of exams outside the proctor's scope (exams.scoping) do not exist here: not listed, not
    counted, not filterable, and their pages answer like a deleted row. Actions and the CSV export
    work on this queryset, so they cannot reach them either."""

    exam_field = "exam"

    def get_queryset(self, request):
        return super().get_queryset(request).filter(exam_scope(request.user, exam_field=self.exam_field))


class VoidedFilter(admin.SimpleListFilter):
    """The review queue leaves reset (voided) attempts out by default; they stay one click away."""

    title = "attempt"
    parameter_name = "voided"

    def lookups(self, request, model_admin):
        return (("yes", "Reset (voided)"), ("all", "All"))

    def choices(self, changelist):
        # "Counted attempts" is the default (no parameter), not Django's "All".
        yield {
            "selected": self.value() is None,
            "query_string": changelist.get_query_string(remove=[self.parameter_name]),
            "display": "Counted attempts",
        }
        for lookup, title in self.lookup_choices:
            yield {
                "selected": self.value() == lookup,
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }

    def queryset(self, request, queryset):
        if self.value() == "all":
            return queryset
        return queryset.filter(voided=self.value() == "yes")


class SecondReviewFilter(admin.SimpleListFilter):
    """Violations waiting for a different proctor come first in the list of choices."""

    title = "second review"
    parameter_name = "second_review"

    def lookups(self, request, model_admin):
        return (
            (SecondReview.REQUIRED, "Waiting for a second look"),
            (SecondReview.CONFIRMED, "Confirmed"),
            (SecondReview.OVERTURNED, "Overturned"),
        )

    def queryset(self, request, queryset):
        return queryset.filter(second_review=self.value()) if self.value() else queryset


class _ReasonFilter(admin.SimpleListFilter):
    """Filter on an incident-reason field, offering the taxonomy's labels."""

    field = ""

    def lookups(self, request, model_admin):
        return reasons.flat_choices()

    def queryset(self, request, queryset):
        return queryset.filter(**{self.field: self.value()}) if self.value() else queryset


class ReviewReasonFilter(_ReasonFilter):
    title = "verdict reason"
    parameter_name = field = "review_reason_code"


class TerminationReasonFilter(_ReasonFilter):
    title = "termination reason"
    parameter_name = field = "termination_reason_code"


# Registered here, not in exams/admin.py: the review page reads events and alerts, and exams
# must not import monitoring.
@admin.register(ExamSession)
class ExamSessionAdmin(GradingAdminMixin, ScopedAdmin):
    list_display = (
        "id",
        "student",
        "exam",
        "risk",
        "flagged_incidents_count",
        "state",
        "review_status",
        "second_look",
        "is_late",
        "started_at",
    )
    list_display_links = ("id", "student")
    list_select_related = ("exam", "user")
    list_filter = (
        VoidedFilter,
        # Only exams that have rows in this (scoped) list: the stock filter would name every exam.
        ("exam", admin.RelatedOnlyFieldListFilter),
        "status",
        NeedsGradingFilter,
        "risk_level",
        "review_status",
        SecondReviewFilter,
        ReviewReasonFilter,
        TerminationReasonFilter,
        ("started_at", admin.DateFieldListFilter),
        "is_late",
    )
    search_fields = ("user__name", "user__email", "user__roll_number")
    ordering = ("-risk_score", "-started_at", "-id")
    list_per_page = 50
    actions = ("set_review_status", "rescore_sessions", "export_csv")
    change_form_template = "admin/monitoring/session_review.html"
    fieldsets = (
        ("Student and exam", {"fields": ("user", "exam", "course_at_start", "status", "review_status")}),
        (
            "Timing",
            {
                "fields": (
                    "started_at",
                    "deadline_at",
                    "submitted_at",
                    "time_taken_seconds",
                    "is_late",
                    "auto_submitted",
                )
            },
        ),
        (
            "Result",
            {
                "fields": (
                    "score",
                    "max_score",
                    "grading_status",
                    "termination_reason",
                    "termination_reason_code",
                    "terminated_by",
                )
            },
        ),
        (
            "Time control",
            {
                "fields": (
                    "paused_at",
                    "paused_seconds",
                    "extended_seconds",
                    "time_compensated_seconds",
                    "warnings_count",
                    "voided",
                    "voided_at",
                    "voided_by",
                    "void_reason",
                )
            },
        ),
        (
            "Review",
            {"fields": ("review_note", "review_reason_code", "second_review", "reviewed_by", "reviewed_at")},
        ),
    )

    class Media:
        css = CSS

    # Everything on this page is evidence: read-only fields, actions through services only.
    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in ExamSession._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description="Student", ordering="user__name")
    def student(self, session: ExamSession) -> str:
        return format_html("{}<br><small>{}</small>", session.user.name, session.user.roll_number or session.user.email)

    @admin.display(description="Risk", ordering="-risk_score")
    def risk(self, session: ExamSession) -> str:
        return risk_badge(session.risk_level, session.risk_score)

    @admin.display(description="Second look", ordering="second_review")
    def second_look(self, session: ExamSession) -> str:
        return session.get_second_review_display() if session.second_review else "-"

    @admin.display(description="Status", ordering="status")
    def state(self, session: ExamSession) -> str:
        # The list only reads: an overdue session is shown as such and closed by the next read of
        # that session (its page, the API) or by `close_expired_sessions`, never by listing it.
        if exam_sessions.session_is_overdue(session=session):
            return format_html('<span class="session-overdue">{}</span>', "Overdue (in progress past its deadline)")
        return session.get_status_display()

    # -- reading ----------------------------------------------------------------------------

    def change_view(self, request, object_id, form_url="", extra_context=None):
        if request.method == "POST":
            # No form saves here: outcomes are set with the review form below, through the service.
            return HttpResponseNotAllowed(["GET"])
        session = self.get_object(request, object_id)
        if session is not None:
            session = exam_sessions.session_expire_if_due(session=session)
            extra_context = {**(extra_context or {}), **self._review_context(request, session)}
        return super().change_view(request, object_id, form_url, extra_context)

    def _review_context(self, request, session: ExamSession) -> dict:
        alerts = list(session.alerts.select_related("resolved_by").order_by("-created_at", "-id"))
        series = review.risk_series(session)
        end = session.submitted_at or (timezone.now() if session.is_open else None)
        chart = charts.risk_chart_svg(
            series,
            threshold=alert_threshold(session.exam.monitoring_sensitivity),
            alerts=[(alert.created_at, alert.risk_score) for alert in alerts],
            end=end,
        )
        can_change = self.has_change_permission(request, session)
        review_locked = REVIEW_LOCKED.get(session.second_review, "")
        return {
            "title": f"Review session #{session.pk}",
            "session": session,
            "risk_badge": risk_badge(session.risk_level, session.risk_score),
            "timeline": review.session_timeline(session, page=request.GET.get("page", 1)),
            "chart": chart,
            "components": review.component_rows(session),
            "opinions": review.model_opinions(session),
            # What the session was timed and scored with, frozen at its start, and where it came from.
            "applied": applied_explained(session),
            "baseline_used": snapshot_explained(session.baseline_snapshot),
            "alerts": alerts,
            # No form the service would refuse: a violation waiting for its second look, or confirmed.
            "review_form": None
            if review_locked
            else ReviewForm(
                initial={
                    "review_status": session.review_status,
                    "note": session.review_note,
                    "reason_code": session.review_reason_code,
                }
            ),
            "review_locked": review_locked,
            "reviews": self._history(session),
            "review_reason_label": reasons.label(session.review_reason_code),
            "termination_reason_label": reasons.label(session.termination_reason_code),
            # Offered only to a proctor other than the verdict's author; the service refuses anyone else too.
            "second_review_form": SecondReviewForm()
            if session.second_review == SecondReview.REQUIRED and session.reviewed_by_id != request.user.pk
            else None,
            "can_change": can_change,
            "can_resolve": request.user.has_perm("monitoring.change_alert"),
            "show_save": False,
            "show_save_and_continue": False,
            "show_save_and_add_another": False,
            "show_delete": False,
        }

    @staticmethod
    def _history(session: ExamSession) -> list:
        steps = exam_reviews.session_review_history(session=session)
        for step in steps:
            step.reason_label = reasons.label(step.reason_code) if step.reason_code else ""
        return steps

    # -- acting on one session ------------------------------------------------------------------

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("<int:session_id>/review/", wrap(self.review_view), name="exams_examsession_review"),
            path(
                "<int:session_id>/second-review/",
                wrap(self.second_review_view),
                name="exams_examsession_second_review",
            ),
            path("<int:session_id>/rescore/", wrap(self.rescore_view), name="exams_examsession_rescore"),
            path(
                "<int:session_id>/alerts/<int:alert_id>/resolve/",
                wrap(self.resolve_view),
                name="exams_examsession_resolve_alert",
            ),
            *super().get_urls(),
        ]

    def _session_for_change(self, request: HttpRequest, session_id: int) -> ExamSession:
        if request.method != "POST":
            raise PermissionDenied("Use the buttons on the session page.")
        session = get_object_or_404(self.get_queryset(request).select_related("exam", "user"), pk=session_id)
        if not self.has_change_permission(request, session):
            raise PermissionDenied
        return session

    def _back(self, session_id: int, anchor: str = "") -> HttpResponseRedirect:
        return HttpResponseRedirect(reverse("admin:exams_examsession_change", args=[session_id]) + anchor)

    def review_view(self, request: HttpRequest, session_id: int) -> HttpResponse:
        session = self._session_for_change(request, session_id)
        form = ReviewForm(request.POST)
        if not form.is_valid():
            errors = "; ".join(message for field in form.errors.values() for message in field)
            self.message_user(request, f"Review not saved: {errors}", messages.ERROR)
            return self._back(session_id, "#review")
        try:
            exam_reviews.session_review(
                session=session,
                by=request.user,
                review_status=form.cleaned_data["review_status"],
                note=form.cleaned_data["note"],
                reason_code=form.cleaned_data["reason_code"],
            )
        except DomainError as exc:
            self.message_user(request, exc.message, messages.ERROR)
        else:
            self.message_user(request, f"Review status set to {form.cleaned_data['review_status']}.", messages.SUCCESS)
        return self._back(session_id, "#review")

    def second_review_view(self, request: HttpRequest, session_id: int) -> HttpResponse:
        session = self._session_for_change(request, session_id)
        form = SecondReviewForm(request.POST)
        if not form.is_valid():
            errors = "; ".join(message for field in form.errors.values() for message in field)
            self.message_user(request, f"Second review not saved: {errors}", messages.ERROR)
            return self._back(session_id, "#second-review")
        data = form.cleaned_data
        try:
            # The service decides who may (a different proctor) and when (only while required).
            session = exam_reviews.session_second_review(
                session=session,
                by=request.user,
                decision=data["decision"],
                review_status=data["review_status"] or None,
                reason_code=data["reason_code"],
                note=data["note"],
            )
        except DomainError as exc:
            self.message_user(request, exc.message, messages.ERROR)
        else:
            self.message_user(request, f"Second review: violation {session.second_review}.", messages.SUCCESS)
        return self._back(session_id, "#second-review")

    def rescore_view(self, request: HttpRequest, session_id: int) -> HttpResponse:
        session = self._session_for_change(request, session_id)
        outcome = self._rescore(request, session)
        if outcome.kept_because:
            self.message_user(
                request, f"Not rescored: {outcome.kept_because}; the stored risk is kept.", messages.WARNING
            )
            return self._back(session_id)
        self.message_user(
            request,
            f"Rescored from {outcome.events} events: {outcome.old_risk:.2f} ({outcome.old_level}) → "
            f"{outcome.new_risk:.2f} ({outcome.new_level}); flagged incidents {outcome.old_incidents} → "
            f"{outcome.new_incidents}.",
            messages.SUCCESS,
        )
        return self._back(session_id)

    def resolve_view(self, request: HttpRequest, session_id: int, alert_id: int) -> HttpResponse:
        if request.method != "POST":
            raise PermissionDenied("Use the buttons on the session page.")
        if not request.user.has_perm("monitoring.change_alert"):
            raise PermissionDenied
        get_object_or_404(
            Alert.objects.filter(exam_scope(request.user, exam_field="session__exam")),
            pk=alert_id,
            session_id=session_id,
        )
        form = ResolveForm(request.POST)
        note = form.cleaned_data["note"] if form.is_valid() else ""
        _alert, pushes = alert_resolve(alert_id=alert_id, by=request.user, note=note)
        send_after_commit(pushes)
        self.message_user(request, f"Alert #{alert_id} resolved.", messages.SUCCESS)
        return self._back(session_id, "#alerts")

    def _rescore(self, request, session: ExamSession):
        return session_rescore_recorded(session=session, by=request.user, via="admin")

    # -- acting on the selection ------------------------------------------------------------------

    @admin.action(description="Set review status of the selected sessions…", permissions=["change"])
    def set_review_status(self, request, queryset):
        def apply(session, data):
            exam_reviews.session_review(
                session=session,
                by=request.user,
                review_status=data["review_status"],
                note=data["note"],
                reason_code=data["reason_code"],
            )

        return _action_form(
            self, request, queryset, form_class=ReviewForm, title="Set review status", action="set_review_status",
            apply=apply,
        )  # fmt: skip

    @admin.action(description="Rescore the selected sessions from their events", permissions=["change"])
    def rescore_sessions(self, request, queryset):
        changed = 0
        for session in queryset.select_related("exam", "user"):
            changed += self._rescore(request, session).score_changed
        self.message_user(request, f"Rescored {queryset.count()} sessions; {changed} changed.", messages.SUCCESS)

    @admin.action(description="Export the selected sessions to CSV (with risk components)", permissions=["view"])
    def export_csv(self, request, queryset):
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
        response["Content-Disposition"] = f'attachment; filename="exampulse-sessions-{stamp}.csv"'
        writer = csv.writer(response)
        writer.writerow(review.CSV_HEADER)
        ids = []
        for session in review.sessions_for_export(queryset):
            writer.writerow(review.session_csv_row(session))
            ids.append(session.pk)
        audit_record_export(actor=request.user, model=ExamSession, ids=ids)
        return response


@admin.register(Alert)
class AlertAdmin(ScopedAdmin):
    list_display = (
        "id",
        "session_link",
        "student",
        "alert_type",
        "level",
        "risk_score",
        "resolved",
        "resolved_by",
        "created_at",
    )
    exam_field = "session__exam"
    list_select_related = ("session", "session__user", "session__exam", "resolved_by")
    list_filter = (
        "resolved",
        "severity",
        "risk_level",
        "alert_type",
        ("session__exam", admin.RelatedOnlyFieldListFilter),
        "created_at",
    )
    search_fields = ("session__user__name", "session__user__email", "session__user__roll_number", "message")
    ordering = ("resolved", "-created_at", "-id")
    actions = ("resolve_alerts",)

    class Media:
        css = CSS

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in Alert._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def change_view(self, request, object_id, form_url="", extra_context=None):
        if request.method == "POST":
            return HttpResponseNotAllowed(["GET"])
        extra = {"show_save": False, "show_save_and_continue": False, "show_save_and_add_another": False}
        return super().change_view(request, object_id, form_url, {**(extra_context or {}), **extra})

    @admin.display(description="Session", ordering="session_id")
    def session_link(self, alert: Alert) -> str:
        url = reverse("admin:exams_examsession_change", args=[alert.session_id])
        return format_html('<a href="{}">#{} · {}</a>', url, alert.session_id, alert.session.exam.name)

    @admin.display(description="Student", ordering="session__user__name")
    def student(self, alert: Alert) -> str:
        return alert.session.user.name

    @admin.display(description="Level", ordering="risk_level")
    def level(self, alert: Alert) -> str:
        return risk_badge(alert.risk_level)

    @admin.action(description="Resolve the selected alerts…", permissions=["change"])
    def resolve_alerts(self, request, queryset):
        def apply(alert, data):
            _alert, pushes = alert_resolve(alert_id=alert.pk, by=request.user, note=data["note"])
            send_after_commit(pushes)

        return _action_form(
            self, request, queryset.filter(resolved=False), form_class=ResolveForm, title="Resolve alerts",
            action="resolve_alerts", apply=apply,
        )  # fmt: skip


@admin.register(Event)
class EventAdmin(ScopedAdmin):
    """Stored events are evidence: listed and read, never edited or deleted here."""

    exam_field = "session__exam"
    list_display = ("id", "session", "event_type", "severity", "is_technical", "risk_score_after", "timestamp")
    # The session column reads its student and exam (ExamSession.__str__).
    list_select_related = ("session__user", "session__exam")
    list_filter = ("event_type", "severity", "is_technical", ("session__exam", admin.RelatedOnlyFieldListFilter))
    search_fields = ("session__user__email", "session__user__name", "client_event_id")
    ordering = ("-timestamp", "-id")

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
