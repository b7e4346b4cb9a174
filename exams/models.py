"""Exams and exam sessions: the spec's `exams` and `exam_sessions` tables, plus lifecycle fields."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from accounts.accommodations import validate_accommodations


class Sensitivity(models.TextChoices):
    LOW = "low", "Low"
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High"


class ExamStatus(models.TextChoices):
    SCHEDULED = "scheduled", "Scheduled"
    ACTIVE = "active", "Active"
    COMPLETED = "completed", "Completed"


class SessionStatus(models.TextChoices):
    IN_PROGRESS = "in_progress", "In progress"
    SUBMITTED = "submitted", "Submitted"
    FLAGGED = "flagged", "Flagged"


class ReviewStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    CLEAN = "clean", "Clean"
    SUSPICIOUS = "suspicious", "Suspicious"
    VIOLATION = "violation", "Violation"


class GradingStatus(models.TextChoices):
    AUTO = "auto", "Auto (no short answers)"
    PENDING = "pending", "Needs grading"
    COMPLETE = "complete", "Graded"


class SecondReview(models.TextChoices):
    NONE = "", "Not needed"
    REQUIRED = "required", "Required"
    CONFIRMED = "confirmed", "Confirmed"
    OVERTURNED = "overturned", "Overturned"


class RiskLevel(models.TextChoices):
    LOW = "low", "Low"
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High"


class Course(models.Model):
    """A course or cohort: its enrolled students may take its exams, its staff (proctors) watch them.

    An exam with no course stays open to every student and every proctor (the spec's behaviour).
    """

    code = models.CharField(max_length=32, unique=True)
    name = models.CharField(max_length=200)
    students = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        through="Enrollment",
        through_fields=("course", "student"),
        related_name="enrolled_courses",
        blank=True,
    )
    staff = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        through="CourseStaff",
        through_fields=("course", "user"),
        related_name="staffed_courses",
        blank=True,
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="courses_created"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "courses"
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} · {self.name}"


class Enrollment(models.Model):
    """A student on a course's roster: who added them and when stay on record."""

    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="enrollments")
    student = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="enrollments")
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "course_enrollments"
        constraints = [models.UniqueConstraint(fields=["course", "student"], name="enrollment_once_per_course")]
        indexes = [models.Index(fields=["student", "course"], name="enrollment_by_student")]

    def __str__(self) -> str:
        return f"{self.student.name} in {self.course.code}"


class CourseStaff(models.Model):
    """A proctor on a course's staff: they see and act on the course's exams and sessions."""

    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="staff_memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="staff_memberships")
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "course_staff"
        constraints = [models.UniqueConstraint(fields=["course", "user"], name="staff_once_per_course")]
        indexes = [models.Index(fields=["user", "course"], name="staff_by_user")]

    def __str__(self) -> str:
        return f"{self.user.name} on the staff of {self.course.code}"


class Exam(models.Model):
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True, default="")
    duration_minutes = models.PositiveIntegerField()
    total_questions = models.PositiveIntegerField(default=0)
    scheduled_date = models.DateTimeField(null=True, blank=True)
    # None once the creator's account is gone: the exam is then changed by its course's staff or superusers.
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="exams_created"
    )
    instructions = models.TextField(blank=True, default="")
    monitoring_sensitivity = models.CharField(max_length=10, choices=Sensitivity.choices, default=Sensitivity.MEDIUM)
    allow_tab_switch = models.BooleanField(default=False)
    allow_copy_paste = models.BooleanField(default=False)
    questions = models.JSONField(default=list, blank=True)
    status = models.CharField(max_length=10, choices=ExamStatus.choices, default=ExamStatus.SCHEDULED, db_index=True)
    # A calibration exam feeds each submitted session's behaviour into the student's baseline.
    is_calibration = models.BooleanField(default=False)
    # None: open to every student and proctor. Set: only the course's students and staff.
    course = models.ForeignKey(Course, null=True, blank=True, on_delete=models.PROTECT, related_name="exams")
    # Time lost to a dropped connection (30 s or more away) is given back, up to this much per session.
    disconnect_grace_minutes = models.PositiveSmallIntegerField(default=0)
    # The warning that reaches this count terminates the session (reason `warning_limit`); None: no limit.
    max_warnings = models.PositiveSmallIntegerField(null=True, blank=True)
    # Off: a student's acks and session views carry no risk (they would show a cheater how well a
    # trick works). Proctors always see it.
    show_risk_to_student = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "exams"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(duration_minutes__gt=0), name="exams_duration_positive"),
            models.CheckConstraint(condition=Q(disconnect_grace_minutes__lte=60), name="exams_grace_at_most_60"),
        ]

    def __str__(self) -> str:
        return self.name


class ExamSession(models.Model):
    exam = models.ForeignKey(Exam, on_delete=models.CASCADE, related_name="sessions")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="exam_sessions")
    # The exam's course when the session started (None: an open exam). The student keeps reaching
    # their session while enrolled there, even if the exam later moves to another course; removal
    # from that course's roster ends it (exams.scoping.own_session_scope).
    course_at_start = models.ForeignKey(Course, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    started_at = models.DateTimeField(db_index=True)
    # Fixed at start: started_at + duration + the extra time of the accommodations applied.
    deadline_at = models.DateTimeField()
    # Frozen at start, so the deadline and the exemptions can be explained later and a change made
    # afterwards moves no running exam: the accommodations applied (institution, course and exam
    # combined, with where each came from: exams.accommodations) and the baseline the session is
    # scored against (scoring.snapshot). `{}`: a session from before they were kept.
    accommodations = models.JSONField(default=dict, blank=True)
    baseline_snapshot = models.JSONField(default=dict, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    # Measured by the server; the client's own figure is kept apart and never trusted.
    time_taken_seconds = models.PositiveIntegerField(null=True, blank=True)
    client_time_taken_seconds = models.PositiveIntegerField(null=True, blank=True)
    answers = models.JSONField(default=dict, blank=True)
    answers_saved_at = models.DateTimeField(null=True, blank=True)
    score = models.FloatField(null=True, blank=True)
    max_score = models.FloatField(null=True, blank=True)
    # Per-question outcome and the points still waiting for a proctor (short answers); never sent to students.
    grading = models.JSONField(default=dict, blank=True)
    is_late = models.BooleanField(default=False)
    auto_submitted = models.BooleanField(default=False)
    status = models.CharField(
        max_length=12, choices=SessionStatus.choices, default=SessionStatus.IN_PROGRESS, db_index=True
    )
    flagged_incidents_count = models.PositiveIntegerField(default=0)
    # High-risk alerts raised and not yet resolved: a session that ends with any ends flagged.
    open_high_alerts = models.PositiveIntegerField(default=0)
    termination_reason = models.TextField(blank=True, default="")
    # A code from the incident-reason taxonomy (exams.reasons); the free text stays beside it.
    termination_reason_code = models.CharField(max_length=40, blank=True, default="")
    terminated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    # Time control while the exam runs. Each of these moves `deadline_at` when it changes.
    paused_at = models.DateTimeField(null=True, blank=True)  # set while paused
    paused_seconds = models.PositiveIntegerField(default=0)  # total time spent paused (already added back)
    extended_seconds = models.PositiveIntegerField(default=0)  # extra time granted live by proctors
    time_compensated_seconds = models.PositiveIntegerField(default=0)  # disconnect time given back
    warnings_count = models.PositiveSmallIntegerField(default=0)
    # An attempt reset keeps the session for the record, out of review and baselines.
    voided = models.BooleanField(default=False, db_index=True)
    voided_at = models.DateTimeField(null=True, blank=True)
    voided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    void_reason = models.TextField(blank=True, default="")

    # Risk, kept current by monitoring's ingestion service after every stored event.
    risk_score = models.FloatField(default=0.0, db_index=True)
    integrity_score = models.PositiveSmallIntegerField(default=100)
    risk_level = models.CharField(max_length=6, choices=RiskLevel.choices, default=RiskLevel.LOW, db_index=True)
    risk_components = models.JSONField(default=dict, blank=True)
    anomaly_score = models.FloatField(null=True, blank=True)
    # The behaviour aggregates the risk engine folds events into (see scoring.aggregation).
    behaviour = models.JSONField(default=dict, blank=True)
    # The highest risk level already alerted on, so a burst of events raises no alert storm.
    alerted_level = models.CharField(max_length=6, blank=True, default="")
    last_event_at = models.DateTimeField(null=True, blank=True)
    # Goes up with every write of what scoring reads besides the clock and status: the aggregate,
    # the score, and the student's baseline, accommodations or the exam's rules (their signals bump
    # the open sessions). A server process's snapshot of the session is current while it matches.
    state_version = models.PositiveIntegerField(default=0)

    review_status = models.CharField(
        max_length=10, choices=ReviewStatus.choices, default=ReviewStatus.PENDING, db_index=True
    )
    review_note = models.TextField(blank=True, default="")
    review_reason_code = models.CharField(max_length=40, blank=True, default="", db_index=True)
    # Short answers wait for a proctor: `pending` until every one has points.
    grading_status = models.CharField(
        max_length=10, choices=GradingStatus.choices, default=GradingStatus.AUTO, db_index=True
    )
    # A violation needs a second, different proctor to confirm or overturn it.
    second_review = models.CharField(
        max_length=10, choices=SecondReview.choices, default=SecondReview.NONE, blank=True, db_index=True
    )
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "exam_sessions"
        ordering = ["-started_at", "-id"]
        constraints = [
            # At most one open attempt per student and exam: concurrent starts cannot both win.
            models.UniqueConstraint(
                fields=["exam", "user"],
                condition=Q(status="in_progress"),
                name="exam_sessions_one_open_per_student",
            ),
        ]
        indexes = [
            models.Index(fields=["exam", "status"]),
            models.Index(fields=["exam", "-risk_score"]),
        ]

    def __str__(self) -> str:
        # What the admin's headings and breadcrumbs show: who, which exam, which attempt.
        return f"{self.user.name} · {self.exam.name} (session {self.pk}, {self.get_status_display().lower()})"

    @property
    def is_open(self) -> bool:
        return self.status == SessionStatus.IN_PROGRESS


class SessionReview(models.Model):
    """One step of a session's review, kept forever: verdicts, second reviews and grading, with notes.

    The session row holds the current state; these rows are the history an auditor reads.
    """

    class Kind(models.TextChoices):
        VERDICT = "verdict", "Verdict"
        SECOND_REVIEW = "second_review", "Second review"
        GRADING = "grading", "Grading"

    session = models.ForeignKey(ExamSession, on_delete=models.CASCADE, related_name="reviews")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    at = models.DateTimeField(auto_now_add=True)
    review_status = models.CharField(max_length=10, blank=True, default="")
    reason_code = models.CharField(max_length=40, blank=True, default="")
    decision = models.CharField(max_length=10, blank=True, default="")  # confirm | overturn (second review)
    note = models.TextField(blank=True, default="")
    details = models.JSONField(default=dict, blank=True)  # e.g. the points given per question

    class Meta:
        db_table = "session_reviews"
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["session", "at"], name="session_reviews_by_session")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} of session {self.session_id}"


class CourseAccommodation(models.Model):
    """A student's accommodations in one course (after edx-proctoring's allowances): applied to that
    course's exams only, set by the course's staff. Same shape as User.accommodations."""

    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="accommodations")
    student = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="course_accommodations"
    )
    accommodations = models.JSONField(default=dict, blank=True, validators=[validate_accommodations])
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "course_accommodations"
        constraints = [models.UniqueConstraint(fields=["course", "student"], name="course_accommodation_once")]
        indexes = [models.Index(fields=["student", "course"], name="course_accommodation_student")]

    def __str__(self) -> str:
        return f"Accommodations of {self.student.name} in {self.course.code}"


class ExamAllowance(models.Model):
    """A student's allowance for one exam (edx-proctoring's allowance): set by whoever may change the
    exam, applied to that exam only. Same shape as User.accommodations."""

    exam = models.ForeignKey(Exam, on_delete=models.CASCADE, related_name="allowances")
    student = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="exam_allowances")
    accommodations = models.JSONField(default=dict, blank=True, validators=[validate_accommodations])
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "exam_allowances"
        constraints = [models.UniqueConstraint(fields=["exam", "student"], name="exam_allowance_once")]
        indexes = [models.Index(fields=["student", "exam"], name="exam_allowance_student")]

    def __str__(self) -> str:
        return f"Allowance of {self.student.name} for {self.exam.name}"
