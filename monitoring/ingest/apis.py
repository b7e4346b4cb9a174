"""REST fallback for clients that buffered events while offline: the same ingestion as the socket."""

from __future__ import annotations

from django.conf import settings
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.views import APIView

from accounts.permissions import IsStudent
from exampulse.platform.api import respond
from exampulse.platform.errors import DomainError
from exams import selectors as exam_selectors
from monitoring.ingest import services
from monitoring.ingest.activity import FrameError, parse_activity
from monitoring.pushes import send_after_commit


class EventBatchInputSerializer(serializers.Serializer):
    events = serializers.ListField(child=serializers.JSONField(), allow_empty=False)

    def validate_events(self, value):
        limit = settings.EXAMPULSE["EVENT_BATCH_MAX"]
        if len(value) > limit:
            raise serializers.ValidationError(f"At most {limit} events per batch.")
        return value


def _refusal(index: int, item, exc: DomainError) -> dict:
    client_event_id = item.get("client_event_id") if isinstance(item, dict) else None
    return {
        "index": index,
        "status": "error",
        "client_event_id": client_event_id if isinstance(client_event_id, str) else None,
        "code": getattr(exc, "code", "invalid"),
        "message": exc.message,
    }


class EventBatchApi(APIView):
    """POST /api/exams/sessions/<id>/events: store a batch; one result per event, in order."""

    permission_classes = [IsStudent]

    @extend_schema(request=EventBatchInputSerializer, responses={200: None})
    def post(self, request, session_id: int):
        session = exam_selectors.session_get_for_user(session_id=session_id, user=request.user)
        serializer = EventBatchInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        results: list[dict | None] = []
        requests: list[tuple[int, services.IngestRequest]] = []
        for index, item in enumerate(serializer.validated_data["events"]):
            try:
                activity = parse_activity(item, require_exam=False)
                if activity.exam_id is not None and activity.exam_id != session.exam_id:
                    raise FrameError("invalid_payload", "exam_id does not match this session's exam.")
            except DomainError as exc:
                results.append(_refusal(index, item, exc))
                continue
            results.append(None)
            requests.append((index, services.IngestRequest(session.pk, activity)))
        # The valid events go in one transaction; a refused one (closed session, say) costs the
        # others nothing.
        outcomes = services.events_ingest([request for _, request in requests]) if requests else []
        send_after_commit(push for outcome in outcomes if not isinstance(outcome, Exception) for push in outcome.pushes)
        for (index, request), outcome in zip(requests, outcomes, strict=True):
            if isinstance(outcome, DomainError):
                results[index] = _refusal(index, {"client_event_id": request.activity.client_event_id}, outcome)
            elif isinstance(outcome, Exception):
                raise outcome
            else:
                status = "duplicate" if outcome.duplicate else "stored"
                results[index] = {"index": index, "status": status, **outcome.ack()}
        counts = {
            status: sum(1 for r in results if r["status"] == status) for status in ("stored", "duplicate", "error")
        }
        return respond(
            {"results": results, **counts},
            message=f"{counts['stored']} stored, {counts['duplicate']} already stored, {counts['error']} refused.",
        )
