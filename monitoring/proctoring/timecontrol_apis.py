"""Time control over REST, for proctors: extend, pause, resume, reset (docs/design.md, part two).

Routed under /api/exams/... (where a client looks for them) but declared by monitoring, because
each action is also recorded on the session's timeline and pushed to the live side; exams must
not import monitoring. Thin: parse, resolve through the scoped selectors, call one service, send
its pushes after commit, reply.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.views import APIView

from accounts.permissions import IsProctor
from exampulse.api import respond
from exams import selectors as exam_selectors
from exams.serializers import ReasonCodeField, SessionProctorOutputSerializer
from exams.services import EXTEND_MINUTES_MAX, REASON_MAX_LENGTH
from monitoring.proctoring import timecontrol
from monitoring.pushes import send_after_commit


class ReasonInputSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=REASON_MAX_LENGTH)


class PauseInputSerializer(ReasonInputSerializer):
    # Optional: the incident behind the pause, from GET /api/incident-reasons (unknown: 400 `invalid_reason`).
    reason_code = ReasonCodeField(required=False, allow_blank=True, default="")


class ExtendInputSerializer(ReasonInputSerializer):
    minutes = serializers.IntegerField(min_value=1, max_value=EXTEND_MINUTES_MAX)


class ExamExtendOutputSerializer(serializers.Serializer):
    exam_id = serializers.IntegerField()
    minutes = serializers.IntegerField()
    count = serializers.IntegerField()
    sessions = serializers.ListField(child=serializers.DictField())


class SessionExtendApi(APIView):
    """POST /api/exams/sessions/<id>/extend {minutes, reason}: the deadline moves by `minutes`."""

    permission_classes = [IsProctor]

    @extend_schema(
        request=ExtendInputSerializer,
        responses={200: SessionProctorOutputSerializer},
        description="Give an in-progress session 1-600 more minutes (on top of accommodations). Audited, "
        "recorded on the timeline as `time_extended`; the student receives `time_extended`. 409 if the session ended.",
    )
    def post(self, request, session_id):
        serializer = ExtendInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        session = exam_selectors.session_get_for_user(session_id=session_id, user=request.user)
        session, outgoing = timecontrol.session_time_extend(
            session=session, by=request.user, **serializer.validated_data
        )
        send_after_commit(outgoing)
        minutes = serializer.validated_data["minutes"]
        return respond(SessionProctorOutputSerializer(session).data, message=f"Extended by {minutes} min.")


class ExamExtendApi(APIView):
    """POST /api/exams/<id>/extend {minutes, reason}: every in-progress session of the exam gets `minutes` more."""

    permission_classes = [IsProctor]

    @extend_schema(
        request=ExtendInputSerializer,
        responses={200: ExamExtendOutputSerializer},
        description="Extend every in-progress session of the exam (overdue ones are closed, not revived); "
        "each is audited, recorded and pushed as for one session.",
    )
    def post(self, request, exam_id):
        serializer = ExtendInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        exam = exam_selectors.exam_get_for_user(exam_id=exam_id, user=request.user)
        sessions, outgoing = timecontrol.exam_time_extend(exam=exam, by=request.user, **serializer.validated_data)
        send_after_commit(outgoing)
        minutes = serializer.validated_data["minutes"]
        data = {
            "exam_id": exam.pk,
            "minutes": minutes,
            "count": len(sessions),
            "sessions": [{"session_id": s.pk, "deadline_at": s.deadline_at.isoformat()} for s in sessions],
        }
        return respond(data, message=f"Extended {len(sessions)} in-progress session(s) by {minutes} min.")


class SessionPauseApi(APIView):
    """POST /api/exams/sessions/<id>/pause {reason}: stop the session's clock."""

    permission_classes = [IsProctor]

    @extend_schema(
        request=PauseInputSerializer,
        responses={200: SessionProctorOutputSerializer},
        description="While paused the session takes no answers and no events (code `session_paused`) and never "
        "expires; the student receives `session_paused`. 409 if already paused or ended.",
    )
    def post(self, request, session_id):
        serializer = PauseInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        session = exam_selectors.session_get_for_user(session_id=session_id, user=request.user)
        session, outgoing = timecontrol.session_time_pause(
            session=session, by=request.user, **serializer.validated_data
        )
        send_after_commit(outgoing)
        return respond(SessionProctorOutputSerializer(session).data, message="Session paused.")


class SessionResumeApi(APIView):
    """POST /api/exams/sessions/<id>/resume: restart the clock; the deadline moves by the time paused."""

    permission_classes = [IsProctor]

    @extend_schema(
        request=None,
        responses={200: SessionProctorOutputSerializer},
        description="The deadline moves by the whole seconds paused and `paused_seconds` grows; the student "
        "receives `session_resumed {session_id, deadline_at}`. 409 if the session is not paused.",
    )
    def post(self, request, session_id):
        session = exam_selectors.session_get_for_user(session_id=session_id, user=request.user)
        session, outgoing = timecontrol.session_time_resume(session=session, by=request.user)
        send_after_commit(outgoing)
        return respond(SessionProctorOutputSerializer(session).data, message="Session resumed.")


class SessionResetApi(APIView):
    """POST /api/exams/sessions/<id>/reset {reason}: void the attempt; the student may start the exam again."""

    permission_classes = [IsProctor]

    @extend_schema(
        request=ReasonInputSerializer,
        responses={200: SessionProctorOutputSerializer},
        description="The session is kept with `voided: true` (an open one ends `submitted`, ungraded): out of "
        "the review queue (`?voided=true` lists them), never in baselines or model training. The student "
        "receives `attempt_reset`. 409 if already reset.",
    )
    def post(self, request, session_id):
        serializer = ReasonInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        session = exam_selectors.session_get_for_user(session_id=session_id, user=request.user)
        session, outgoing = timecontrol.session_attempt_reset(
            session=session, by=request.user, **serializer.validated_data
        )
        send_after_commit(outgoing)
        return respond(
            SessionProctorOutputSerializer(session).data, message="Attempt reset: the student may start again."
        )
