"""Exams in the admin. Saves and deletes go through exams.authoring, like the REST API.

The ExamSession admin lives in monitoring/review/console.py: the review page shows events and alerts,
and exams must not import monitoring.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.http import HttpResponseRedirect
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html

from accounts.models import Role, User
from exampulse.platform.errors import DomainError
from exams import courses
from exams import questions as question_rules
from exams.authoring import EXAM_FIELDS, exam_create, exam_delete, exam_update
from exams.models import Course, CourseAccommodation, CourseStaff, Enrollment, Exam, ExamAllowance
from exams.scoping import exam_scope, may_change_exam

EDITABLE = list(EXAM_FIELDS)


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
        "course",
        "status",
        "duration_minutes",
        "total_questions",
        "monitoring_sensitivity",
        "scheduled_date",
        "created_by",
        "live_link",
    )
    # Only the courses of exams the user can see are offered (no other course names leak).
    list_filter = ("status", "monitoring_sensitivity", "is_calibration", ("course", admin.RelatedOnlyFieldListFilter))
    list_select_related = ("course", "created_by")
    search_fields = ("name", "course__code")
    readonly_fields = ("total_questions", "created_by", "created_at", "updated_at")
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "name",
                    "course",
                    "description",
                    "instructions",
                    "status",
                    "scheduled_date",
                    "duration_minutes",
                )
            },
        ),
        (
            "Monitoring",
            {
                "fields": (
                    "monitoring_sensitivity",
                    "allow_tab_switch",
                    "allow_copy_paste",
                    "is_calibration",
                    "show_risk_to_student",
                )
            },
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

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        # Only courses the proctor staffs are offered (superusers: all); the service checks it again.
        if db_field.name == "course" and not request.user.is_superuser:
            kwargs["queryset"] = Course.objects.filter(staff_memberships__user_id=request.user.pk)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def has_change_permission(self, request, obj=None) -> bool:
        # The service's rule, per object: an exam the user may not change opens read-only (no
        # form that the save would refuse), and a POST to it is refused with 403.
        allowed = super().has_change_permission(request, obj)
        return allowed and (obj is None or may_change_exam(request.user, obj))

    def has_delete_permission(self, request, obj=None) -> bool:
        allowed = super().has_delete_permission(request, obj)
        return allowed and (obj is None or may_change_exam(request.user, obj))

    def save_model(self, request, obj: Exam, form, change: bool) -> None:
        data = {key: form.cleaned_data[key] for key in EDITABLE if key in form.cleaned_data}
        if change:
            saved = exam_update(exam=obj, by=request.user, data=data, via="admin")
        else:
            saved = exam_create(by=request.user, data=data, via="admin")
        # The admin goes on to log and redirect with `obj`; point it at the row the service wrote.
        obj.pk = saved.pk
        obj.total_questions = saved.total_questions
        obj.created_by = saved.created_by

    def delete_model(self, request, obj: Exam) -> None:
        exam_delete(exam=obj, by=request.user)

    def delete_queryset(self, request, queryset) -> None:
        for exam in queryset:
            try:
                exam_delete(exam=exam, by=request.user)
            except DomainError as exc:
                messages.error(request, f"{exam.name}: {exc.message}")

    def delete_view(self, request, object_id, extra_context=None):
        try:
            return super().delete_view(request, object_id, extra_context)
        except DomainError as exc:
            # A taken exam keeps its evidence: say so instead of failing the request.
            messages.error(request, exc.message)
            return HttpResponseRedirect(reverse("admin:exams_exam_change", args=[object_id]))


# --- courses -------------------------------------------------------------------------------------


class _MemberInlineForm(forms.ModelForm):
    """An existing row's person is fixed: remove the row and add another instead (both audited)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields[self.person_field].disabled = True


class _EnrollmentForm(_MemberInlineForm):
    person_field = "student"


class _StaffForm(_MemberInlineForm):
    person_field = "user"


class EnrollmentInline(admin.TabularInline):
    model = Enrollment
    form = _EnrollmentForm
    fk_name = "course"
    fields = ("student", "added_by", "added_at")
    readonly_fields = ("added_by", "added_at")
    autocomplete_fields = ("student",)
    extra = 0
    verbose_name = "enrolled student"

    def get_queryset(self, request):
        # Each row is labelled with the student's name and the course's code (Enrollment.__str__).
        return super().get_queryset(request).select_related("student", "course")

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "student":
            kwargs["queryset"] = User.objects.filter(role=Role.STUDENT)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class CourseStaffInline(admin.TabularInline):
    model = CourseStaff
    form = _StaffForm
    fk_name = "course"
    fields = ("user", "added_by", "added_at")
    readonly_fields = ("added_by", "added_at")
    autocomplete_fields = ("user",)
    extra = 0
    verbose_name = "staff member"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("user", "course")

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "user":
            kwargs["queryset"] = User.objects.filter(role=Role.PROCTOR)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class CourseAdminForm(forms.ModelForm):
    class Meta:
        model = Course
        fields = ("code", "name")

    def clean_code(self):
        code = self.cleaned_data["code"].strip()
        if not courses.COURSE_CODE_RE.match(code):
            raise ValidationError("Use 1-32 letters, digits, '.', '-' or '_', starting with a letter or digit.")
        # Codes compare case-insensitively (the service refuses "phy-101" next to "PHY-101").
        if Course.objects.filter(code__iexact=code).exclude(pk=self.instance.pk).exists():
            raise ValidationError("A course with this code already exists.")
        return code


@admin.register(Course)
class CourseAdmin(admin.ModelAdmin):
    """Courses with their roster and staff. Every change goes through exams.courses (audited)."""

    form = CourseAdminForm

    list_display = ("code", "name", "student_count", "staff_count", "exam_count", "created_at")
    search_fields = ("code", "name")
    readonly_fields = ("created_by", "created_at", "updated_at")
    fields = ("code", "name", "created_by", "created_at", "updated_at")
    inlines = [CourseStaffInline, EnrollmentInline]

    def get_queryset(self, request):
        queryset = courses.course_list_for(user=request.user).annotate(exam_total=Count("exams", distinct=True))
        return queryset.select_related("created_by")

    @admin.display(description="students", ordering="student_count")
    def student_count(self, course: Course) -> int:
        return course.student_count

    @admin.display(description="staff", ordering="staff_count")
    def staff_count(self, course: Course) -> int:
        return course.staff_count

    @admin.display(description="exams", ordering="exam_total")
    def exam_count(self, course: Course) -> int:
        return course.exam_total

    def save_model(self, request, obj: Course, form, change: bool) -> None:
        if change:
            saved = courses.course_update(course=obj, by=request.user, data=form.cleaned_data)
        else:
            saved = courses.course_create(by=request.user, code=obj.code, name=obj.name)
        obj.pk = saved.pk
        obj.created_by = saved.created_by

    def save_formset(self, request, form, formset, change: bool) -> None:
        instances = formset.save(commit=False)
        course = form.instance
        person = "student" if formset.model is Enrollment else "user"
        for row in formset.deleted_objects:
            try:
                if formset.model is Enrollment:
                    courses.course_student_remove(course=course, by=request.user, user_id=row.student_id)
                else:
                    courses.course_staff_remove(course=course, by=request.user, user_id=row.user_id)
            except DomainError as exc:
                messages.error(request, exc.message)
        emails = [getattr(row, person).email for row in instances if row.pk is None]
        if emails:
            add = courses.course_students_add if formset.model is Enrollment else courses.course_staff_add
            add(course=course, by=request.user, emails=emails)


# --- accommodations per course and per exam: read here, changed over REST (audited) ------------------


class _AccommodationAdmin(admin.ModelAdmin):
    """Listed and read here; set through /api/courses/<id>/accommodations and /api/exams/<id>/allowances,
    whose services check who may and audit every change (a form here would bypass neither, so none)."""

    list_select_related = ("student", "updated_by")
    search_fields = ("student__email", "student__name", "student__roll_number")
    readonly_fields = ("accommodations", "updated_by", "created_at", "updated_at")

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(CourseAccommodation)
class CourseAccommodationAdmin(_AccommodationAdmin):
    list_display = ("student", "course", "accommodations", "updated_by", "updated_at")
    list_filter = (("course", admin.RelatedOnlyFieldListFilter),)
    readonly_fields = ("course", "student", *_AccommodationAdmin.readonly_fields)

    def get_queryset(self, request):
        # The courses the user staffs (superusers: all), like the REST endpoints.
        staffed = courses.course_list_for(user=request.user).values("pk")
        return super().get_queryset(request).filter(course_id__in=staffed).select_related("course")


@admin.register(ExamAllowance)
class ExamAllowanceAdmin(_AccommodationAdmin):
    list_display = ("student", "exam", "accommodations", "updated_by", "updated_at")
    list_filter = (("exam", admin.RelatedOnlyFieldListFilter),)
    readonly_fields = ("exam", "student", *_AccommodationAdmin.readonly_fields)

    def get_queryset(self, request):
        return super().get_queryset(request).filter(exam_scope(request.user, exam_field="exam")).select_related("exam")
