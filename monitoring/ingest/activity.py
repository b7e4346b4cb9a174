"""What one behavioural event may say: the validation of a `suspicious_activity` payload.

The socket (monitoring.live.frames parses the frame around it) and the REST batch endpoint
(monitoring.ingest.apis) both turn client data into an `Activity` here, or refuse it with a
FrameError that names a stable code. No database, no channel layer; the event catalogue it checks
against is scoring's, read through ingestion's one door into scoring (monitoring.ingest.risk).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from exampulse.errors import DomainError
from monitoring.ingest.risk import catalogue

# Activity types, from the catalogue: clients may send only their own; the server records the rest.
ACTIVITY_TYPES = catalogue.CLIENT_TYPES
TECHNICAL_TYPES = catalogue.TECHNICAL_TYPES
# What only the server records (connection events, proctors' actions): a paused session still takes these.
SERVER_RECORDED_TYPES = frozenset(name for name, kind in catalogue.CATALOGUE.items() if kind.source != catalogue.CLIENT)

MAX_PAYLOAD_KEYS = 32
MAX_STRING = 256
MAX_LIST = 256
MAX_ID = 64
CLIENT_EVENT_ID_RE = re.compile(r"^[A-Za-z0-9_.:\-]{1,64}$")
# Fields every suspicious_activity frame may carry besides its type-specific payload.
ENVELOPE_FIELDS = frozenset({"exam_id", "type", "client_event_id", "client_ts"})


class FrameError(DomainError):
    """A frame or payload the server will not act on; the consumer answers with `error {message, code}`,
    the REST batch endpoint with a refusal for that event."""

    def __init__(self, code: str, message: str, *, details: dict | None = None) -> None:
        self.code = code
        super().__init__(message, details=details)


@dataclass(frozen=True)
class Activity:
    """A validated suspicious_activity payload, ready for events_ingest."""

    exam_id: int | None
    event_type: str
    payload: dict[str, Any]
    client_event_id: str | None = None
    client_ts: datetime | None = None
    is_technical: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def from_client(self) -> bool:
        """Sent by the student's browser (any type the catalogue does not give to the server)."""
        return self.event_type not in SERVER_RECORDED_TYPES


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


# Per type, from the catalogue: the numeric fields it reads, each (low, high, required), its number
# lists, each high, its ids and its free-text fields (a short scalar, kept for the reviewer and never
# scored). The scored fields' ranges are the aggregation's, so a value the scorer would ignore is
# refused at the door instead. A key the catalogue does not declare for the type is dropped: it is
# never stored, so a proctor never sees `user_id` or `session_id` the client made up as if the
# server had said it.
NUMERIC_FIELDS: dict[str, dict[str, tuple[float, float, bool]]] = {
    name: {f.name: (f.low, f.high, f.required) for f in kind.fields if f.kind == catalogue.NUMBER}
    for name, kind in catalogue.CATALOGUE.items()
    if any(f.kind == catalogue.NUMBER for f in kind.fields)
}
NUMBER_LIST_FIELDS: dict[str, dict[str, float]] = {
    name: {f.name: f.high for f in kind.fields if f.kind == catalogue.NUMBERS}
    for name, kind in catalogue.CATALOGUE.items()
    if any(f.kind == catalogue.NUMBERS for f in kind.fields)
}
TEXT_FIELDS: dict[str, tuple[str, ...]] = {
    name: tuple(f.name for f in kind.fields if f.kind == catalogue.TEXT)
    for name, kind in catalogue.CATALOGUE.items()
    if any(f.kind == catalogue.TEXT for f in kind.fields)
}
ID_FIELDS: dict[str, tuple[str, ...]] = {
    name: tuple(f.name for f in kind.fields if f.kind == catalogue.ID)
    for name, kind in catalogue.CATALOGUE.items()
    if any(f.kind == catalogue.ID for f in kind.fields)
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
    """Validate a suspicious_activity payload (socket frame or one item of a REST batch); only the fields
    the catalogue declares for its type are kept."""
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
    for key in TEXT_FIELDS.get(event_type, ()):
        if key not in data:
            continue
        value = data[key]
        if isinstance(value, str):
            if len(value) > MAX_STRING:
                raise FrameError("invalid_payload", f"{key} is longer than {MAX_STRING} characters.")
        elif value is not None and not isinstance(value, bool | int | float):
            raise FrameError("invalid_payload", f"{key} must be a short text, number or boolean.")
        elif isinstance(value, float) and not math.isfinite(value):
            raise FrameError("invalid_payload", f"{key} must be a finite number.")
        payload[key] = value
    for key in ID_FIELDS.get(event_type, ()):
        ident = data.get(key)
        if isinstance(ident, bool) or not isinstance(ident, str | int) or str(ident) == "":
            raise FrameError("invalid_payload", f"{key} is required.", details={key: "required"})
        if len(str(ident)) > MAX_ID:
            raise FrameError("invalid_payload", f"{key} is longer than {MAX_ID} characters.")
        payload[key] = str(ident)
    return Activity(
        exam_id=exam_id,
        event_type=event_type,
        payload=payload,
        client_event_id=client_event_id,
        client_ts=client_ts,
        is_technical=event_type in TECHNICAL_TYPES,
    )
