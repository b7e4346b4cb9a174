"""The WebSocket protocol's vocabulary and envelope: `{"event": NAME, "data": {...}}` both ways.

The server -> client names (SERVER_EVENTS) and frame() live in monitoring.pushes, beside the
pushes they build. Every frame a client sends is parsed here into a name and its data, or refused with a FrameError
that names a stable code. The payload of `suspicious_activity` is validated by
monitoring.ingest.activity, which the REST batch endpoint shares. Nothing in this module touches
the database or the channel layer.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from exampulse.platform.json_limits import MAX_JSON_DEPTH, json_too_deep
from monitoring.ingest.activity import FrameError
from monitoring.pushes import frame

# Client -> server frame names.
STUDENT_EVENTS = frozenset({"join_exam", "leave_exam", "suspicious_activity", "submit_exam", "ping"}) | {"raise_hand"}
PROCTOR_EVENTS = frozenset(
    {"join_exam", "leave_exam", "get_active_students", "warn_student", "resolve_alert", "terminate_session", "ping"}
) | {"answer_hand"}
# Time control on a running session's clock (proctors only): each is answered with `action_ok`.
TIME_CONTROL_EVENTS = frozenset({"extend_time", "pause_session", "resume_session", "reset_attempt"})
PROCTOR_EVENTS = PROCTOR_EVENTS | TIME_CONTROL_EVENTS
CLIENT_EVENTS = STUDENT_EVENTS | PROCTOR_EVENTS


@dataclass(frozen=True)
class Frame:
    name: str
    data: dict[str, Any]


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


def require_text(data: dict, key: str, *, max_length: int, required: bool = True) -> str:
    value = data.get(key)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value.strip()):
        raise FrameError("invalid_payload", f"{key} must be non-empty text.", details={key: "required text"})
    if len(value) > max_length:
        raise FrameError("invalid_payload", f"{key} is longer than {max_length} characters.")
    return value.strip()


def error_frame(code: str, message: str, **extra: Any) -> dict[str, Any]:
    return frame("error", code=code, message=message, **extra)
