"""Input and output shapes of the exam API. Student outputs never carry an answer key.

Students get `ExamStudentOutputSerializer` / `SessionStudentOutputSerializer`, whose questions
pass through `questions.student_view`; proctors get the full shapes.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from exams import questions as question_rules
from exams import reasons
from exams.accommodations import applied_explained
from exams.models import (
    Exam,
    ExamSession,
    ExamStatus,
    GradingStatus,
    ReviewStatus,
    RiskLevel,
    SecondReview,
    Sensitivity,
    SessionReview,
    SessionStatus,
)
from exams.selectors import MAX_PK, SESSION_ORDERINGS, StartState, exam_start_state
from scoring.snapshot import snapshot_explained

MAX_DURATION_MINUTES = 24 * 60
MAX_LONG_TEXT = 20000
MAX_NOTE = 2000
MAX_EVENTS_IN_DETAIL = 1000


# --- exams: input --------------------------------------------------------------------------------


class ExamInputSerializer(serializers.Serializer):
    """Create (all required fields) or, with partial=True, patch an exam."""

    name = serializers.CharField(max_length=200)
    description = serializers.CharField(max_length=MAX_LONG_TEXT, required=False, allow_blank=True)
    duration_minutes = serializers.IntegerField(min_value=1, max_value=MAX_DURATION_MINUTES)
    scheduled_date = serializers.DateTimeField(required=False, allow_null=True)
    instructions = serializers.CharField(max_length=MAX_LONG_TEXT, required=False, allow_blank=True)
    monitoring_sensitivity = serializers.ChoiceField(choices=Sensitivity.choices, required=False)
    allow_tab_switch = serializers.BooleanField(required=False)
    allow_copy_paste = serializers.BooleanField(required=False)
    questions = serializers.JSONField(required=False)
    status = serializers.ChoiceField(choices=ExamStatus.choices, required=False)
    is_calibration = serializers.BooleanField(required=False)
    # A course the proctor staffs (superusers: any); null or absent: open to every student and proctor.
    course = serializers.IntegerField(min_value=1, max_value=MAX_PK, required=False, allow_null=True)
    # Time lost to a dropped connection given back per session, in minutes; 0 turns it off.
    disconnect_grace_minutes = serializers.IntegerField(min_value=0, max_value=60, required=False)
    # The warning that reaches this count terminates the session; null: no limit.
    max_warnings = serializers.IntegerField(min_value=1, max_value=100, required=False, allow_null=True)
    # Off (default): the student's acks and session views carry no risk score; proctors always see it.
    show_risk_to_student = serializers.BooleanField(required=False)

    def validate_questions(self, value):
        try:
            return question_rules.validate_questions(value)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.message_dict.get("questions", exc.messages)) from exc


class ExamListQuerySerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=ExamStatus.choices, required=False)


# --- exams: output --------------------------------------------------------------------------------


class _ExamBaseOutputSerializer(serializers.ModelSerializer):
    course = serializers.SerializerMethodField()

    class Meta:
        model = Exam
        fields = (
            "id",
            "name",
            "description",
            "duration_minutes",
            "total_questions",
            "scheduled_date",
            "instructions",
            "monitoring_sensitivity",
            "allow_tab_switch",
            "allow_copy_paste",
            "status",
            "is_calibration",
            "course",
            "disconnect_grace_minutes",
            "max_warnings",
            "show_risk_to_student",
            "created_at",
            "updated_at",
        )
        read_only_fields = fields

    def get_course(self, exam) -> dict | None:
        # No query for an open exam; list views select_related the course for the others.
        if exam.course_id is None:
            return None
        course = exam.course
        return {"id": course.pk, "code": course.code, "name": course.name}


class ExamStudentOutputSerializer(_ExamBaseOutputSerializer):
    """What a student sees of an exam: the questions without their answers."""

    questions = serializers.SerializerMethodField()

    class Meta(_ExamBaseOutputSerializer.Meta):
        fields = (*_ExamBaseOutputSerializer.Meta.fields, "questions")
        read_only_fields = fields

    def get_questions(self, exam) -> list[dict]:
        return question_rules.student_view(exam.questions)


class ExamProctorOutputSerializer(_ExamBaseOutputSerializer):
    """The whole exam, answer key included: proctors only."""

    created_by = serializers.SerializerMethodField()

    class Meta(_ExamBaseOutputSerializer.Meta):
        fields = (*_ExamBaseOutputSerializer.Meta.fields, "questions", "created_by")
        read_only_fields = fields

    def get_created_by(self, exam) -> dict | None:
        user = exam.created_by
        return {"id": user.pk, "name": user.name, "email": user.email} if user else None


class ExamAttemptSerializer(serializers.Serializer):
    session_id = serializers.IntegerField()
    status = serializers.ChoiceField(choices=SessionStatus.choices)


class ExamForStudentSerializer(ExamStudentOutputSerializer):
    """An exam in a student's list or detail: answer-free, and whether they can start it now.

    `can_start`: POST /start would start it or resume the open attempt. Otherwise `start_refusal`
    is the code the start would answer (`exam_not_open`, `session_already_submitted`); `attempt`
    is the student's counted attempt, if any.
    """

    can_start = serializers.SerializerMethodField()
    start_refusal = serializers.SerializerMethodField()
    attempt = serializers.SerializerMethodField()

    class Meta(ExamStudentOutputSerializer.Meta):
        fields = (*ExamStudentOutputSerializer.Meta.fields, "can_start", "start_refusal", "attempt")
        read_only_fields = fields

    def _state(self, exam) -> StartState:
        if not hasattr(exam, "_start_state"):
            exam._start_state = exam_start_state(exam=exam, user=self.context["user"])
        return exam._start_state

    def get_can_start(self, exam) -> bool:
        return self._state(exam).can_start

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_start_refusal(self, exam) -> str | None:
        return self._state(exam).refusal

    @extend_schema_field(ExamAttemptSerializer(allow_null=True))
    def get_attempt(self, exam) -> dict | None:
        return self._state(exam).attempt


def exam_output(exam: Exam, *, user) -> dict:
    """Serialize an exam for this user: full for proctors; answer-free, with whether they can start it,
    for everyone else."""
    if getattr(user, "is_proctor", False):
        return ExamProctorOutputSerializer(exam).data
    return ExamForStudentSerializer(exam, context={"user": user}).data


# --- sessions: input -------------------------------------------------------------------------------


class AnswersInputSerializer(serializers.Serializer):
    answers = serializers.DictField(child=serializers.JSONField(allow_null=True), allow_empty=True)


class SubmitInputSerializer(serializers.Serializer):
    answers = serializers.DictField(child=serializers.JSONField(allow_null=True), required=False, allow_null=True)
    # Accepted under both names: the spec says time_taken; the stored field is in seconds.
    time_taken = serializers.IntegerField(min_value=0, max_value=10**7, required=False, allow_null=True)


@extend_schema_field({"type": "string", "enum": [reason.code for reason in reasons.REASONS]})
class ReasonCodeField(serializers.CharField):
    """A code of the incident-reason taxonomy (GET /api/incident-reasons).

    Plain text here: the service checks it, so REST, the socket and the admin refuse an unknown code
    the same way (400, details.code `invalid_reason`)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", reasons.MAX_CODE_LENGTH)
        super().__init__(**kwargs)


class ReviewInputSerializer(serializers.Serializer):
    review_status = serializers.ChoiceField(choices=ReviewStatus.choices)
    note = serializers.CharField(max_length=MAX_NOTE, required=False, allow_blank=True, default="")
    # Required for suspicious and violation (the service says so with `reason_required`).
    reason_code = ReasonCodeField(required=False, allow_blank=True, default="")


class SecondReviewInputSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(choices=[("confirm", "Confirm"), ("overturn", "Overturn")])
    # Required when overturning: clean or suspicious (suspicious also needs reason_code).
    review_status = serializers.ChoiceField(
        choices=[
            (ReviewStatus.CLEAN, "Clean"),
            (ReviewStatus.SUSPICIOUS, "Suspicious"),
            (ReviewStatus.VIOLATION, "Violation"),
        ],
        required=False,
        allow_null=True,
    )
    reason_code = ReasonCodeField(required=False, allow_blank=True, default="")
    note = serializers.CharField(max_length=MAX_NOTE, required=False, allow_blank=True, default="")


class TerminateInputSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=MAX_NOTE)
    # Required (400 `reason_required` / `invalid_reason`); the free-text reason stays beside it.
    reason_code = ReasonCodeField(required=False, allow_blank=True, default="")


class IncidentReasonSerializer(serializers.Serializer):
    code = serializers.CharField()
    label = serializers.CharField()
    category = serializers.ChoiceField(choices=reasons.CATEGORIES)


class GradeInputSerializer(serializers.Serializer):
    """Points per short question, keyed by question id; the service checks ids, types and ranges."""

    scores = serializers.DictField(
        # Null passes here so the service names the question ("points must be a number").
        child=serializers.JSONField(allow_null=True),
        allow_empty=False,
        help_text='Points per short question id, e.g. {"q3": 2.5}; each from 0 to the question\'s points.',
    )
    note = serializers.CharField(max_length=MAX_NOTE, required=False, allow_blank=True, default="")


class SessionListQuerySerializer(serializers.Serializer):
    exam = serializers.IntegerField(min_value=1, max_value=MAX_PK, required=False)
    user = serializers.IntegerField(min_value=1, max_value=MAX_PK, required=False)
    status = serializers.ChoiceField(choices=SessionStatus.choices, required=False)
    review_status = serializers.ChoiceField(choices=ReviewStatus.choices, required=False)
    risk_level = serializers.ChoiceField(choices=RiskLevel.choices, required=False)
    ordering = serializers.ChoiceField(choices=sorted(SESSION_ORDERINGS), required=False)
    # Proctors: reset (voided) attempts are left out unless asked for with ?voided=true.
    voided = serializers.BooleanField(required=False, default=False)
    # Proctors: ?grading_status=pending is the "needs grading" queue (reset attempts never are).
    grading_status = serializers.ChoiceField(choices=GradingStatus.choices, required=False)
    # Proctors: sessions whose verdict or termination names this incident reason.
    reason_code = serializers.ChoiceField(choices=reasons.flat_choices(), required=False)
    second_review = serializers.ChoiceField(choices=[c for c in SecondReview.choices if c[0]], required=False)


# --- sessions: output ------------------------------------------------------------------------------

_STUDENT_SESSION_FIELDS = (
    "id",
    "exam",
    "status",
    "started_at",
    "deadline_at",
    "remaining_seconds",
    "submitted_at",
    "time_taken_seconds",
    "answers",
    "answers_saved_at",
    "score",
    "max_score",
    "pending_manual_points",
    "grading_status",
    "is_late",
    "auto_submitted",
    "risk_score",
    "integrity_score",
    "risk_level",
    "paused_at",
    "paused_seconds",
    "extended_seconds",
    "voided",
)


# What a student sees of their risk only where the exam shows it (Exam.show_risk_to_student).
RISK_FIELDS = ("risk_score", "integrity_score", "risk_level")


class _SessionBaseOutputSerializer(serializers.ModelSerializer):
    exam = serializers.SerializerMethodField()
    remaining_seconds = serializers.SerializerMethodField()
    pending_manual_points = serializers.SerializerMethodField()
    # Null for a student whose exam does not show risk (proctors always get the numbers).
    risk_score = serializers.FloatField(read_only=True, allow_null=True)
    integrity_score = serializers.IntegerField(read_only=True, allow_null=True)
    risk_level = serializers.ChoiceField(choices=RiskLevel.choices, read_only=True, allow_null=True)
    # Proctors see risk everywhere; the student serializers set this False.
    risk_always = True

    class Meta:
        model = ExamSession
        fields = _STUDENT_SESSION_FIELDS
        read_only_fields = fields

    def to_representation(self, session):
        data = super().to_representation(session)
        if not self.risk_always and not session.exam.show_risk_to_student:
            # A live score would tell a cheater how well a trick works; after the exam, how to do better next time.
            data.update(dict.fromkeys(RISK_FIELDS))
        return data

    def get_exam(self, session) -> dict:
        exam = session.exam
        return {"id": exam.pk, "name": exam.name, "duration_minutes": exam.duration_minutes, "status": exam.status}

    def get_remaining_seconds(self, session) -> int:
        if not session.is_open:
            return 0
        # A paused clock stands still at the moment it was paused.
        at = session.paused_at or self.context.get("at") or timezone.now()
        return max(0, int((session.deadline_at - at).total_seconds()))

    def get_pending_manual_points(self, session) -> float | None:
        return (session.grading or {}).get("pending_manual_points")


class SessionStudentOutputSerializer(_SessionBaseOutputSerializer):
    """A student's own session: timing, their answers and score; no key, no per-question verdicts;
    the risk fields null unless the exam shows risk to students."""

    risk_always = False


class SessionStudentDetailSerializer(SessionStudentOutputSerializer):
    """The student's session with the exam's answer-free questions, so a reconnecting client can resume."""

    def get_exam(self, session) -> dict:
        return ExamStudentOutputSerializer(session.exam).data


class SessionProctorOutputSerializer(_SessionBaseOutputSerializer):
    user = serializers.SerializerMethodField()

    class Meta(_SessionBaseOutputSerializer.Meta):
        fields = (
            *_STUDENT_SESSION_FIELDS,
            "user",
            "client_time_taken_seconds",
            "grading",
            "risk_components",
            "anomaly_score",
            "flagged_incidents_count",
            "open_high_alerts",
            "termination_reason",
            "termination_reason_code",
            "terminated_by",
            "review_status",
            "review_note",
            "review_reason_code",
            "second_review",
            "reviewed_by",
            "reviewed_at",
            "last_event_at",
            # Part B of time control: disconnect compensation and the warning count.
            "time_compensated_seconds",
            "warnings_count",
        )
        read_only_fields = fields

    def get_user(self, session) -> dict:
        user = session.user
        return {"id": user.pk, "name": user.name, "email": user.email, "roll_number": user.roll_number}


def _event(event) -> dict:
    return {
        "id": event.pk,
        "event_type": event.event_type,
        "event_data": event.event_data,
        "timestamp": serializers.DateTimeField().to_representation(event.timestamp),
        "severity": event.severity,
        "client_event_id": event.client_event_id,
        "is_technical": event.is_technical,
        "risk_score_after": event.risk_score_after,
    }


def _alert(alert) -> dict:
    stamp = serializers.DateTimeField().to_representation
    return {
        "id": alert.pk,
        "alert_type": alert.alert_type,
        "message": alert.message,
        "risk_score": alert.risk_score,
        "risk_level": alert.risk_level,
        "severity": alert.severity,
        "components": alert.components,
        "resolved": alert.resolved,
        "resolved_by": alert.resolved_by_id,
        "resolved_at": stamp(alert.resolved_at) if alert.resolved_at else None,
        "resolution_note": alert.resolution_note,
        "created_at": stamp(alert.created_at),
    }


def _review(step: SessionReview) -> dict:
    by = step.by
    return {
        "id": step.pk,
        "kind": step.kind,
        "by": {"id": by.pk, "name": by.name, "email": by.email} if by else None,
        "at": serializers.DateTimeField().to_representation(step.at),
        "review_status": step.review_status,
        "reason_code": step.reason_code,
        "reason_label": reasons.label(step.reason_code) if step.reason_code else "",
        "decision": step.decision,
        "note": step.note,
        "details": step.details,
    }


class SessionProctorDetailSerializer(SessionProctorOutputSerializer):
    """Everything a reviewer needs: the session, its behaviour, the events timeline and the alerts.

    Events and alerts are read through the reverse relations so exams never imports monitoring.
    """

    events = serializers.SerializerMethodField()
    events_total = serializers.SerializerMethodField()
    alerts = serializers.SerializerMethodField()
    reviews = serializers.SerializerMethodField()
    accommodations_applied = serializers.SerializerMethodField()
    baseline_used = serializers.SerializerMethodField()

    class Meta(SessionProctorOutputSerializer.Meta):
        fields = (
            *SessionProctorOutputSerializer.Meta.fields,
            "accommodations_applied",
            "baseline_used",
            "behaviour",
            "events_total",
            "events",
            "alerts",
            "reviews",
        )
        read_only_fields = fields

    def get_accommodations_applied(self, session) -> dict:
        """The accommodations applied at start (institution, course, exam added up) and where each came from."""
        return applied_explained(session)

    def get_baseline_used(self, session) -> dict:
        """The baseline the session is scored against (its snapshot at start) and its provenance."""
        return snapshot_explained(session.baseline_snapshot)

    def get_reviews(self, session) -> list[dict]:
        """The review history, oldest first: every verdict, second review and grading step with its note."""
        return [_review(step) for step in session.reviews.select_related("by").order_by("at", "id")]

    def get_exam(self, session) -> dict:
        return ExamProctorOutputSerializer(session.exam).data

    def get_events_total(self, session) -> int:
        return session.events.count()

    def get_events(self, session) -> list[dict]:
        # The newest MAX_EVENTS_IN_DETAIL events, oldest first: a timeline that cannot grow without bound.
        latest = list(session.events.order_by("-timestamp", "-id")[:MAX_EVENTS_IN_DETAIL])
        return [_event(event) for event in reversed(latest)]

    def get_alerts(self, session) -> list[dict]:
        return [_alert(alert) for alert in session.alerts.order_by("-created_at", "-id")]


def session_output(session: ExamSession, *, user, detail: bool = False) -> dict:
    """Serialize a session for this user: proctors see review data, students only their own safe view."""
    if getattr(user, "is_proctor", False):
        serializer = SessionProctorDetailSerializer if detail else SessionProctorOutputSerializer
    else:
        serializer = SessionStudentDetailSerializer if detail else SessionStudentOutputSerializer
    return serializer(session).data
