"""The payload of every server -> client frame, one schema per frame name (after Zulip's event_types.py).

`SCHEMAS` maps each name the server sends to the TypedDict of its `data`; `monitoring.pushes.frame()`
refuses a name without one, so a frame cannot be sent undeclared. A frame that two audiences see
differently (the student's and the proctors' copy of a time-control push, say) has one schema whose
audience-only keys are NotRequired. `check_frame` holds a received `{"event", "data"}` against its
schema (every required key, no undeclared key, each value of its declared type); the tests run it on
every frame their sockets receive. Pure: no Django, no I/O, so `monitoring.pushes` (the floor every
room stands on) may import it. No `from __future__ import annotations` here: TypedDict reads
NotRequired from the evaluated annotations.
"""

import types
import typing
from typing import Any, Literal, NotRequired, TypedDict, Union

Role = Literal["student", "proctor"]
Level = Literal["low", "medium", "high"]
Severity = Literal["low", "medium", "high"]


# -- to the socket that asked --------------------------------------------------------------


class Connected(TypedDict):
    user_id: int
    name: str
    role: Role
    server_time: str
    message: str


class JoinedExam(TypedDict):
    exam_id: int
    role: Role
    session_id: int | None
    # The student's reply: their session (None before they start), its clock and the warning limit.
    status: NotRequired[str | None]
    started_at: NotRequired[str]
    deadline_at: NotRequired[str | None]
    # Only where the exam shows the risk to its students.
    risk_score: NotRequired[float]
    risk_level: NotRequired[str]
    time_compensated_seconds: NotRequired[int]
    warnings_count: NotRequired[int]
    max_warnings: NotRequired[int | None]


class LeftExam(TypedDict):
    exam_id: int


class ActivityLogged(TypedDict):
    event_id: int | None
    event_type: str
    severity: Severity
    client_event_id: str | None
    duplicate: bool
    # Only where the exam shows the risk to its students.
    risk_score: NotRequired[float]
    risk_level: NotRequired[str]


class ExamSubmitted(TypedDict):
    exam_id: int
    session_id: int
    status: str
    score: float | None
    max_score: float | None
    is_late: bool
    submitted_at: str | None
    time_taken_seconds: int | None


class OpenHand(TypedDict):
    hand_id: int
    message: str
    raised_at: str


class ActiveStudent(TypedDict):
    user_id: int
    name: str
    email: str
    roll_number: str
    session_id: int | None
    status: str | None
    risk_score: float
    risk_level: str
    integrity_score: int
    flagged_incidents_count: int
    deadline_at: str | None
    paused: bool
    time_compensated_seconds: int
    warnings_count: int
    max_warnings: int | None
    hand: OpenHand | None
    connections: int
    connected_since: str


class ActiveStudents(TypedDict):
    exam_id: int
    students: list[ActiveStudent]
    count: int


class ActionOk(TypedDict):
    action: str
    session_id: NotRequired[int]
    alert_id: NotRequired[int]
    exam_id: NotRequired[int]
    hand_id: NotRequired[int]
    minutes: NotRequired[int]
    deadline_at: NotRequired[str]


class Pong(TypedDict):
    server_time: str


class Error(TypedDict):
    code: str
    message: str
    # The client frame refused (None when it could not be parsed that far).
    event: NotRequired[str | None]
    details: NotRequired[dict[str, Any]]


# -- pushed to an exam's proctors ----------------------------------------------------------------


class StudentJoined(TypedDict):
    user_id: int
    name: str
    roll_number: str
    exam_id: int
    session_id: int | None
    status: str | None
    deadline_at: str | None
    started_at: NotRequired[str]
    risk_score: NotRequired[float]
    risk_level: NotRequired[str]
    time_compensated_seconds: NotRequired[int]
    warnings_count: NotRequired[int]


class StudentLeft(TypedDict):
    user_id: int
    exam_id: int


class StudentActivity(TypedDict):
    user_id: int
    name: str
    session_id: int
    exam_id: int
    event_id: int | None
    client_event_id: str | None
    event_type: str
    severity: Severity
    is_technical: bool
    data: dict[str, Any]
    timestamp: str
    risk_score: float
    risk_level: str


class HighRiskAlert(TypedDict):
    alert_id: int | None
    alert_type: str
    user_id: int
    name: str
    session_id: int
    exam_id: int
    risk_score: float
    risk_level: str
    severity: Severity
    message: str
    components: dict[str, Any]
    resolved: bool
    created_at: str | None


class AlertResolved(TypedDict):
    alert_id: int
    session_id: int
    exam_id: int
    resolved_by: int
    resolved_by_name: str
    note: str


class StudentSubmitted(TypedDict):
    user_id: int
    session_id: int
    exam_id: int
    status: str
    is_late: bool
    auto_submitted: bool
    risk_score: float
    risk_level: str


class HandRaised(TypedDict):
    hand_id: int
    session_id: int
    exam_id: int
    user_id: int
    name: str
    message: str
    raised_at: str | None


# -- pushed to a student, or to the student and the exam's proctors ------------------------------


class ProctorWarning(TypedDict):
    session_id: int
    exam_id: int
    message: str
    from_name: str
    count: int | None
    limit: int | None


class HandAnswered(TypedDict):
    hand_id: int
    session_id: int
    exam_id: int
    message: str
    from_name: NotRequired[str]  # the student's copy
    user_id: NotRequired[int]  # the proctors' copy
    answered_by: NotRequired[int]


class SessionTerminated(TypedDict):
    session_id: int
    exam_id: int
    reason: str
    reason_code: str
    # The proctors' copy: whose session, who ended it, its status now.
    user_id: NotRequired[int]
    by: NotRequired[int | None]
    status: NotRequired[str]


class TimeExtended(TypedDict):
    session_id: int
    deadline_at: str
    minutes: int
    user_id: NotRequired[int]  # the proctors' copy


class SessionPaused(TypedDict):
    session_id: int
    reason: str
    user_id: NotRequired[int]


class SessionResumed(TypedDict):
    session_id: int
    deadline_at: str
    user_id: NotRequired[int]


class AttemptReset(TypedDict):
    session_id: int
    exam_id: int
    user_id: NotRequired[int]


class AccessRevoked(TypedDict):
    exam_id: int


SCHEMAS: dict[str, type] = {
    # to the socket that asked
    "connected": Connected,
    "joined_exam": JoinedExam,
    "left_exam": LeftExam,
    "activity_logged": ActivityLogged,
    "exam_submitted": ExamSubmitted,
    "active_students": ActiveStudents,
    "action_ok": ActionOk,
    "pong": Pong,
    "error": Error,
    # pushed to an exam's proctors
    "student_joined": StudentJoined,
    "student_left": StudentLeft,
    "student_activity": StudentActivity,
    "high_risk_alert": HighRiskAlert,
    "alert_resolved": AlertResolved,
    "student_submitted": StudentSubmitted,
    "hand_raised": HandRaised,
    # pushed to a student
    "proctor_warning": ProctorWarning,
    # pushed to the student and the exam's proctors
    "hand_answered": HandAnswered,
    # pushed to both: the student's socket then closes
    "session_terminated": SessionTerminated,
    # time control, pushed to both (the socket stays open)
    "time_extended": TimeExtended,
    "session_paused": SessionPaused,
    "session_resumed": SessionResumed,
    "attempt_reset": AttemptReset,
    # to every socket of a user who may no longer see the exam: the socket then leaves its group
    "access_revoked": AccessRevoked,
}


class FrameSchemaError(ValueError):
    """A frame that does not match its schema; the message says where."""


def check_frame(frame: Any) -> None:
    """Raise FrameSchemaError unless `frame` is `{"event": NAME, "data": {...}}` matching NAME's schema."""
    if not isinstance(frame, dict) or set(frame) != {"event", "data"}:
        raise FrameSchemaError(f"a frame is {{'event', 'data'}}, not {frame!r}")
    name = frame["event"]
    schema = SCHEMAS.get(name)
    if schema is None:
        raise FrameSchemaError(f"{name!r} has no schema (monitoring.frame_types.SCHEMAS)")
    _check_typed_dict(schema, frame["data"], name)


def _check_typed_dict(schema: type, value: Any, where: str) -> None:
    if not isinstance(value, dict):
        raise FrameSchemaError(f"{where}: expected an object, got {value!r}")
    hints = typing.get_type_hints(schema)
    missing = schema.__required_keys__ - value.keys()
    unknown = value.keys() - hints.keys()
    if missing or unknown:
        raise FrameSchemaError(f"{where}: missing {sorted(missing)}, undeclared {sorted(unknown)}")
    for key, item in value.items():
        _check(hints[key], item, f"{where}.{key}")


def _check(hint: Any, value: Any, where: str) -> None:
    origin = typing.get_origin(hint)
    if origin is NotRequired:
        (hint,) = typing.get_args(hint)
        origin = typing.get_origin(hint)
    if hint is Any:
        return
    if origin in (Union, types.UnionType):
        for option in typing.get_args(hint):
            try:
                _check(option, value, where)
            except FrameSchemaError:
                continue
            return
        raise FrameSchemaError(f"{where}: {value!r} matches none of {hint}")
    if origin is Literal:
        if value not in typing.get_args(hint):
            raise FrameSchemaError(f"{where}: {value!r} is not one of {typing.get_args(hint)}")
        return
    if origin is list:
        if not isinstance(value, list):
            raise FrameSchemaError(f"{where}: expected a list, got {value!r}")
        (item_hint,) = typing.get_args(hint)
        for index, item in enumerate(value):
            _check(item_hint, item, f"{where}[{index}]")
        return
    if origin is dict:
        if not isinstance(value, dict) or not all(isinstance(key, str) for key in value):
            raise FrameSchemaError(f"{where}: expected an object, got {value!r}")
        return
    if typing.is_typeddict(hint):
        _check_typed_dict(hint, value, where)
        return
    if hint is type(None):
        ok = value is None
    elif hint is float:
        # JSON has one number type: a whole float may arrive as an int.
        ok = isinstance(value, int | float) and not isinstance(value, bool)
    elif hint is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
    else:
        ok = isinstance(value, hint)
    if not ok:
        raise FrameSchemaError(f"{where}: expected {getattr(hint, '__name__', hint)}, got {value!r}")
