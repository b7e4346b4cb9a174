"""The WebSocket protocol's vocabulary and validation: `{"event": NAME, "data": {...}}` both ways.

Everything a client sends is parsed here into plain values or refused with a FrameError that
names a stable code. Nothing in this module touches the database or the channel layer.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from exampulse.errors import DomainError
from exampulse.json_limits import MAX_JSON_DEPTH, json_too_deep
from scoring.aggregation import RANGES as AGGREGATION_RANGES

# Client -> server frame names.
STUDENT_EVENTS = frozenset({"join_exam", "leave_exam", "suspicious_activity", "submit_exam", "ping"})
PROCTOR_EVENTS = frozenset(
    {"join_exam", "leave_exam", "get_active_students", "warn_student", "resolve_alert", "terminate_session", "ping"}
)
CLIENT_EVENTS = STUDENT_EVENTS | PROCTOR_EVENTS

# Activity types that count towards integrity (scored or severity-bearing).
INTEGRITY_TYPES = frozenset(
    {
        "tab_switch",
        "window_blur",
        "window_focus",
        "copy",
        "paste",
        "cut",
        "right_click",
        "fullscreen_exit",
        "devtools_open",
        "typing_sample",
        "mouse_sample",
        "question_answered",
    }
)
# Technical events: recorded for the reviewer, never scored. Only this one comes from clients;
# the server records `disconnected` and `reconnected` itself.
CLIENT_TECHNICAL_TYPES = frozenset({"capability_unavailable"})
SERVER_TECHNICAL_TYPES = frozenset({"disconnected", "reconnected", "proctor_warning"})
TECHNICAL_TYPES = CLIENT_TECHNICAL_TYPES | SERVER_TECHNICAL_TYPES
ACTIVITY_TYPES = INTEGRITY_TYPES | CLIENT_TECHNICAL_TYPES

MAX_PAYLOAD_KEYS = 32
MAX_STRING = 256
MAX_LIST = 256
CLIENT_EVENT_ID_RE = re.compile(r"^[A-Za-z0-9_.:\-]{1,64}$")
# Fields every suspicious_activity frame may carry besides its type-specific payload.
ENVELOPE_FIELDS = frozenset({"exam_id", "type", "client_event_id", "client_ts"})


class FrameError(DomainError):
    """A frame the server will not act on; the consumer answers with `error {message, code}`."""

    def __init__(self, code: str, message: str, *, details: dict | None = None) -> None:
        self.code = code
        super().__init__(message, details=details)


@dataclass(frozen=True)
class Frame:
    name: str
    data: dict[str, Any]


@dataclass(frozen=True)
class Activity:
    """A validated suspicious_activity payload, ready for event_ingest."""

    exam_id: int | None
    event_type: str
    payload: dict[str, Any]
    client_event_id: str | None = None
    client_ts: datetime | None = None
    is_technical: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


def _encodable(content: Any) -> bool:
    """False when a string inside holds a lone surrogate (e.g. an escaped "\\ud800"): no database can store it."""
    try:
        json.dumps(content, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


_TOO_DEEP = f"Frame nests deeper than {MAX_JSON_DEPTH} levels."


def parse_frame(text: str | None, *, max_bytes: int) -> Frame:
    """Decode one text frame into a Frame, or raise FrameError naming what is wrong."""
    if text is None:
        raise FrameError("binary_not_supported", "Binary frames are not supported; send JSON text.")
    if len(text.encode("utf-8", errors="surrogatepass")) > max_bytes:
        raise FrameError("frame_too_large", f"Frame is larger than {max_bytes} bytes.")
    try:
        content = json.loads(text)
    except json.JSONDecodeError:
        raise FrameError("bad_json", "Frame is not valid JSON.") from None
    except RecursionError:
        # The decoder recurses per level: ~1,000 levels fit in a 64 KB frame.
        raise FrameError("too_deep", _TOO_DEEP) from None
    if json_too_deep(content):
        # Shallower nesting still reaches json.dumps, the database and the echo to proctors.
        raise FrameError("too_deep", _TOO_DEEP)
    if not _encodable(content):
        raise FrameError("bad_encoding", "Frame text is not valid Unicode (a lone surrogate).")
    if not isinstance(content, dict):
        raise FrameError("bad_frame", 'A frame is a JSON object: {"event": NAME, "data": {...}}.')
    name = content.get("event")
    if not isinstance(name, str) or not name:
        raise FrameError("bad_frame", 'The frame has no "event" name.')
    data = content.get("data", {})
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise FrameError("bad_frame", '"data" must be a JSON object.')
    if name not in CLIENT_EVENTS:
        raise FrameError("unknown_event", f"Unknown event {name[:64]!r}.")
    return Frame(name=name, data=data)


def require_int(data: dict, key: str, *, minimum: int = 1) -> int:
    """A positive integer id from the frame, or FrameError(invalid_payload)."""
    value = data.get(key)
    if isinstance(value, bool) or not isinstance(value, int):
        if isinstance(value, str) and value.isdigit() and len(value) < 19:
            value = int(value)
        else:
            raise FrameError("invalid_payload", f"{key} must be an integer.", details={key: "required integer"})
    if value < minimum or value > 2**62:
        raise FrameError("invalid_payload", f"{key} is out of range.", details={key: "out of range"})
    return value


def require_text(data: dict, key: str, *, max_length: int, required: bool = True) -> str:
    value = data.get(key)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value.strip()):
        raise FrameError("invalid_payload", f"{key} must be non-empty text.", details={key: "required text"})
    if len(value) > max_length:
        raise FrameError("invalid_payload", f"{key} is longer than {max_length} characters.")
    return value.strip()


def _number(payload: dict, key: str, *, low: float, high: float, required: bool) -> float | None:
    value = payload.get(key)
    if value is None:
        if required:
            raise FrameError("invalid_payload", f"{key} is required.", details={key: "required number"})
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise FrameError("invalid_payload", f"{key} must be a finite number.", details={key: "number"})
    if not low <= value <= high:
        raise FrameError("invalid_payload", f"{key} must be between {low:g} and {high:g}.", details={key: "range"})
    return value


def _number_list(payload: dict, key: str, *, high: float) -> list[float] | None:
    value = payload.get(key)
    if value is None:
        return None
    if not isinstance(value, list) or len(value) > MAX_LIST:
        raise FrameError("invalid_payload", f"{key} must be a list of at most {MAX_LIST} numbers.")
    for item in value:
        if isinstance(item, bool) or not isinstance(item, int | float) or not math.isfinite(item):
            raise FrameError("invalid_payload", f"{key} must hold only finite numbers.")
        if not 0 <= item <= high:
            raise FrameError("invalid_payload", f"{key} values must be between 0 and {high:g}.")
    return value


# Per type: the numeric fields it reads, each (low, high, required). Anything else in the payload
# must be a short scalar and is kept for the reviewer but never scored.
def _ranged(name: str, *, required: bool = False) -> tuple[float, float, bool]:
    # The aggregation's own ranges: a value the scorer would ignore is refused at the door instead.
    low, high = AGGREGATION_RANGES[name]
    return (low, high, required)


NUMERIC_FIELDS: dict[str, dict[str, tuple[float, float, bool]]] = {
    "window_focus": {"blur_duration_ms": _ranged("blur_duration_ms")},
    "typing_sample": {
        "wpm": _ranged("wpm", required=True),
        "hold_ms_mean": _ranged("hold_ms_mean"),
        "latency_ms_mean": _ranged("latency_ms_mean"),
        "keystrokes": (0, 100_000, False),
        "duration_ms": (0, 3_600_000, False),
    },
    "mouse_sample": {"speed_pxs": _ranged("speed_pxs", required=True), "duration_ms": (0, 3_600_000, False)},
    "question_answered": {"time_spent_sec": _ranged("time_spent_sec", required=True)},
    "copy": {"length": (0, 10_000_000, False)},
    "paste": {"length": (0, 10_000_000, False)},
    "cut": {"length": (0, 10_000_000, False)},
}
NUMBER_LIST_FIELDS: dict[str, dict[str, float]] = {
    "typing_sample": {"hold_times_ms": 5_000, "latencies_ms": 10_000},
}


def _client_ts(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, bool):
        raise FrameError("invalid_payload", "client_ts must be epoch milliseconds or an ISO 8601 time.")
    if isinstance(value, int | float):
        if not math.isfinite(value) or not 0 <= value <= 32503680000000:
            raise FrameError("invalid_payload", "client_ts is out of range.")
        return datetime.fromtimestamp(value / 1000, tz=UTC)
    if isinstance(value, str) and len(value) <= 40:
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            pass
        else:
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    raise FrameError("invalid_payload", "client_ts must be epoch milliseconds or an ISO 8601 time.")


def parse_activity(data: dict[str, Any], *, require_exam: bool = True) -> Activity:
    """Validate a suspicious_activity payload (socket frame or one item of a REST batch)."""
    if not isinstance(data, dict):
        raise FrameError("invalid_payload", "An activity is a JSON object.")
    event_type = data.get("type")
    if not isinstance(event_type, str) or not event_type:
        raise FrameError("invalid_payload", "type is required.", details={"type": "required"})
    if event_type not in ACTIVITY_TYPES:
        raise FrameError("unknown_activity_type", f"Unknown activity type {event_type[:64]!r}.")
    exam_id = require_int(data, "exam_id") if require_exam or "exam_id" in data else None

    client_event_id = data.get("client_event_id")
    if client_event_id is not None and (
        not isinstance(client_event_id, str) or not CLIENT_EVENT_ID_RE.match(client_event_id)
    ):
        raise FrameError("invalid_payload", "client_event_id must be 1-64 characters of [A-Za-z0-9_.:-].")
    client_ts = _client_ts(data.get("client_ts"))

    extra_keys = [key for key in data if key not in ENVELOPE_FIELDS]
    if len(extra_keys) > MAX_PAYLOAD_KEYS:
        raise FrameError("invalid_payload", f"An activity carries at most {MAX_PAYLOAD_KEYS} fields.")
    payload: dict[str, Any] = {}
    numeric = NUMERIC_FIELDS.get(event_type, {})
    lists = NUMBER_LIST_FIELDS.get(event_type, {})
    for key, (low, high, required) in numeric.items():
        value = _number(data, key, low=low, high=high, required=required)
        if value is not None:
            payload[key] = value
    for key, high in lists.items():
        value = _number_list(data, key, high=high)
        if value is not None:
            payload[key] = value
    for key in extra_keys:
        if key in payload:
            continue
        if key in numeric or key in lists:
            continue
        value = data[key]
        if not isinstance(key, str) or len(key) > 64:
            raise FrameError("invalid_payload", "Field names are at most 64 characters.")
        if isinstance(value, str):
            if len(value) > MAX_STRING:
                raise FrameError("invalid_payload", f"{key} is longer than {MAX_STRING} characters.")
        elif value is not None and not isinstance(value, bool | int | float):
            raise FrameError("invalid_payload", f"{key} must be a short text, number or boolean.")
        elif isinstance(value, float) and not math.isfinite(value):
            raise FrameError("invalid_payload", f"{key} must be a finite number.")
        payload[key] = value
    if event_type == "question_answered":
        question_id = data.get("question_id")
        if isinstance(question_id, bool) or not isinstance(question_id, str | int) or str(question_id) == "":
            raise FrameError("invalid_payload", "question_id is required.", details={"question_id": "required"})
        if len(str(question_id)) > 64:
            raise FrameError("invalid_payload", "question_id is longer than 64 characters.")
        payload["question_id"] = str(question_id)
    return Activity(
        exam_id=exam_id,
        event_type=event_type,
        payload=payload,
        client_event_id=client_event_id,
        client_ts=client_ts,
        is_technical=event_type in TECHNICAL_TYPES,
    )


def frame(event: str, /, **data: Any) -> dict[str, Any]:
    """Build one server -> client frame."""
    return {"event": event, "data": data}


def error_frame(code: str, message: str, **extra: Any) -> dict[str, Any]:
    return frame("error", code=code, message=message, **extra)
