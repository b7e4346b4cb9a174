"""Every activity (behavioural event) type, declared once: its category, severity, payload and wording.

The activity parser (monitoring.ingest.activity), the aggregation (scoring.aggregation), severity
(scoring.severity), the review timeline (monitoring.review.selectors) and the live dashboard (served as
JSON by monitoring.review.views) all read this table; none keeps a list of its own. It lives in `scoring`
because the aggregation must read it and `scoring` never imports `monitoring`; it is pure (no
Django), like the engine.

Categories:
- `integrity`: what the student's browser does that bears on integrity. Scored by the aggregation
  (the rule formula or the review counts) and given a severity that can flag an incident.
- `milestone`: a step of the student's progress through the exam, sent by the browser
  (`question_answered`). Scored (answer speed) but never an incident by itself: the review timeline
  shows it as a milestone, not a flag. The session's own lifecycle (started, submitted, terminated)
  is not an event; the timeline reads it from the session.
- `technical`: recorded for the reviewer and never scored (docs/design.md: technical events never raise risk).

Sources (who may record it):
- `client`: the student's browser, over the socket (`suspicious_activity`) or the REST batch.
- `server`: the server, about the connection (`disconnected`, `reconnected`); a client sending one is refused.
- `proctor`: the server, for a proctor's action (`proctor_warning`); the timeline shows it as an action.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

INTEGRITY = "integrity"
MILESTONE = "milestone"
TECHNICAL = "technical"
CATEGORIES = (INTEGRITY, MILESTONE, TECHNICAL)

CLIENT = "client"
SERVER = "server"
PROCTOR = "proctor"
SOURCES = (CLIENT, SERVER, PROCTOR)

SEVERITIES = ("low", "medium", "high")

# Payload field kinds.
NUMBER = "number"  # a finite number in [low, high]
NUMBERS = "numbers"  # a list of finite numbers, each in [low, high]
ID = "id"  # text or an integer, at most 64 characters, stored as text
TEXT = "text"  # any short scalar, kept for the reviewer and never scored
# A client's payload keeps only the fields declared here for its type; any other key is dropped
# before storage (monitoring.ingest.activity), so nothing undeclared ever reaches a proctor.
KINDS = (NUMBER, NUMBERS, ID, TEXT)

# Exam policy flags that make a type harmless (severity low, its risk component 0).
ALLOW_TAB_SWITCH = "allow_tab_switch"
ALLOW_COPY_PASTE = "allow_copy_paste"


@dataclass(frozen=True)
class Field:
    """One payload field: a value outside [low, high] is refused by the parser and ignored by the aggregation."""

    name: str
    kind: str
    low: float | None = None
    high: float | None = None
    required: bool = False
    # True when the aggregation folds it into the session's signals (so its range is the aggregation's).
    scored: bool = False
    # How the review timeline shows it: "ms" renders milliseconds as seconds ("12.5 s").
    unit: str = ""


@dataclass(frozen=True)
class ActivityType:
    """One activity type. `label` and `detail` are the review timeline's wording (payload fields in
    braces); `short` is the live dashboard's phrase after the student's name."""

    name: str
    category: str
    source: str
    severity: str
    label: str
    short: str
    detail: str = ""
    fields: tuple[Field, ...] = ()
    allowed_by: str | None = None

    @property
    def scored(self) -> bool:
        return self.category != TECHNICAL

    def field(self, name: str) -> Field | None:
        return next((f for f in self.fields if f.name == name), None)


def _clipboard(name: str, severity: str, short: str) -> ActivityType:
    return ActivityType(
        name=name,
        category=INTEGRITY,
        source=CLIENT,
        severity=severity,
        label=f"{name.capitalize()} in the exam page",
        short=short,
        fields=(Field("length", NUMBER, 0, 10_000_000),),
        allowed_by=ALLOW_COPY_PASTE,
    )


_DURATION = Field("duration_ms", NUMBER, 0, 3_600_000)

_TYPES = (
    ActivityType(
        name="tab_switch",
        category=INTEGRITY,
        source=CLIENT,
        severity="medium",
        label="Switched tab",
        short="switched tab",
        # The page's visibility state when it was recorded ("hidden"), as exampulse-client.js sends it.
        fields=(Field("visibility", TEXT),),
        allowed_by=ALLOW_TAB_SWITCH,
    ),
    ActivityType(
        name="window_blur",
        category=INTEGRITY,
        source=CLIENT,
        severity="low",
        label="Left the exam window",
        short="left the window",
    ),
    # Severity rises with blur_duration_ms (scoring.severity); "low" is for a short absence.
    ActivityType(
        name="window_focus",
        category=INTEGRITY,
        source=CLIENT,
        severity="low",
        label="Came back to the exam window",
        short="came back",
        detail="away {blur_duration_ms}",
        fields=(Field("blur_duration_ms", NUMBER, 0.0, 86_400_000.0, scored=True, unit="ms"),),
    ),
    _clipboard("copy", "medium", "copied"),
    _clipboard("paste", "high", "pasted"),
    _clipboard("cut", "medium", "cut"),
    ActivityType(
        name="right_click",
        category=INTEGRITY,
        source=CLIENT,
        severity="low",
        label="Right-clicked",
        short="right-clicked",
    ),
    ActivityType(
        name="fullscreen_exit",
        category=INTEGRITY,
        source=CLIENT,
        severity="medium",
        label="Left full screen",
        short="left full screen",
    ),
    ActivityType(
        name="devtools_open",
        category=INTEGRITY,
        source=CLIENT,
        severity="high",
        label="Opened developer tools",
        short="opened dev tools",
        # How the page noticed ("window_size"), as exampulse-client.js sends it.
        fields=(Field("method", TEXT),),
    ),
    ActivityType(
        name="typing_sample",
        category=INTEGRITY,
        source=CLIENT,
        severity="low",
        label="Typing sample",
        short="typing",
        detail="{wpm} wpm",
        fields=(
            Field("wpm", NUMBER, 0.0, 1000.0, required=True, scored=True),
            # Mean key hold time (keydown to keyup) and inter-key latency (keydown to next keydown).
            Field("hold_ms_mean", NUMBER, 0.0, 5000.0, scored=True),
            Field("latency_ms_mean", NUMBER, 0.0, 10000.0, scored=True),
            Field("keystrokes", NUMBER, 0, 100_000),
            _DURATION,
            Field("hold_times_ms", NUMBERS, 0, 5_000),
            Field("latencies_ms", NUMBERS, 0, 10_000),
        ),
    ),
    ActivityType(
        name="mouse_sample",
        category=INTEGRITY,
        source=CLIENT,
        severity="low",
        label="Mouse sample",
        short="mouse",
        detail="{speed_pxs} px/s",
        fields=(Field("speed_pxs", NUMBER, 0.0, 100000.0, required=True, scored=True), _DURATION),
    ),
    ActivityType(
        name="question_answered",
        category=MILESTONE,
        source=CLIENT,
        severity="low",
        label="Answered {question_id}",
        short="answered a question",
        detail="{time_spent_sec} s on the question",
        fields=(
            Field("time_spent_sec", NUMBER, 0.0, 86400.0, required=True, scored=True),
            Field("question_id", ID, required=True, scored=True),
        ),
    ),
    ActivityType(
        name="capability_unavailable",
        category=TECHNICAL,
        source=CLIENT,
        severity="low",
        label="Browser capability unavailable",
        short="capability unavailable",
        detail="{capability}",
        fields=(Field("capability", TEXT),),
    ),
    ActivityType(
        name="disconnected",
        category=TECHNICAL,
        source=SERVER,
        severity="low",
        label="Connection lost",
        short="connection lost",
    ),
    ActivityType(
        name="reconnected",
        category=TECHNICAL,
        source=SERVER,
        severity="low",
        label="Reconnected",
        short="reconnected",
    ),
    ActivityType(
        name="proctor_warning",
        category=TECHNICAL,
        source=PROCTOR,
        severity="low",
        label="Proctor warning sent",
        short="was warned",
        detail="{message}",
        fields=(Field("message", TEXT),),
    ),
    # Time control (the proctor's actions on a running session's clock): on the timeline, never scored.
    ActivityType(
        name="time_extended",
        category=TECHNICAL,
        source=PROCTOR,
        severity="low",
        label="Extra time given",
        short="was given extra time",
        detail="+{minutes} min: {reason}",
        fields=(Field("minutes", TEXT), Field("reason", TEXT)),
    ),
    ActivityType(
        name="session_paused",
        category=TECHNICAL,
        source=PROCTOR,
        severity="low",
        label="Paused by the proctor",
        short="was paused",
        detail="{reason}",
        fields=(Field("reason", TEXT),),
    ),
    ActivityType(
        name="session_resumed",
        category=TECHNICAL,
        source=PROCTOR,
        severity="low",
        label="Resumed by the proctor",
        short="was resumed",
        detail="after {paused_seconds} s",
        fields=(Field("paused_seconds", TEXT),),
    ),
    ActivityType(
        name="attempt_reset",
        category=TECHNICAL,
        source=PROCTOR,
        severity="low",
        label="Attempt reset (voided)",
        short="had the attempt reset",
        detail="{reason}",
        fields=(Field("reason", TEXT),),
    ),
    # Raise hand (docs/design.md, part two): a request for help, never a sign of cheating.
    ActivityType(
        name="hand_raised",
        category=TECHNICAL,
        source=SERVER,
        severity="low",
        label="Raised a hand",
        short="raised a hand",
        detail="{message}",
        fields=(Field("message", TEXT),),
    ),
    ActivityType(
        name="hand_answered",
        category=TECHNICAL,
        source=PROCTOR,
        severity="low",
        label="Proctor answered a raised hand",
        short="got an answer",
        detail="{message}",
        fields=(Field("message", TEXT),),
    ),
)

CATALOGUE: dict[str, ActivityType] = {kind.name: kind for kind in _TYPES}

# Types a client may send (socket or REST batch); the server records the others itself.
CLIENT_TYPES = frozenset(name for name, kind in CATALOGUE.items() if kind.source == CLIENT)
# Types stored with is_technical and never scored.
TECHNICAL_TYPES = frozenset(name for name, kind in CATALOGUE.items() if kind.category == TECHNICAL)
# Types the aggregation folds into the session's state.
SCORED_TYPES = frozenset(name for name, kind in CATALOGUE.items() if kind.scored)


def get(name: str) -> ActivityType | None:
    """The declared type, or None for a name the catalogue does not know."""
    return CATALOGUE.get(name)


def scored_ranges() -> dict[str, tuple[float, float]]:
    """Field name -> inclusive (low, high) for every numeric field the aggregation reads."""
    ranges: dict[str, tuple[float, float]] = {}
    for kind in _TYPES:
        for field in kind.fields:
            if field.scored and field.kind == NUMBER:
                ranges[field.name] = (float(field.low), float(field.high))  # type: ignore[arg-type]
    return ranges


def as_json() -> dict[str, dict[str, Any]]:
    """The catalogue as plain JSON values, for pages that are served it (the live dashboard)."""
    return {
        name: {
            "category": kind.category,
            "source": kind.source,
            "severity": kind.severity,
            "label": kind.label,
            "short": kind.short,
            "detail": kind.detail,
            "allowed_by": kind.allowed_by,
            "fields": [asdict(field) for field in kind.fields],
        }
        for name, kind in CATALOGUE.items()
    }


def _check() -> None:
    """Refuse an inconsistent table at import time (explicit checks: asserts vanish under -O)."""
    ranges: dict[str, tuple[Any, Any]] = {}
    for kind in _TYPES:
        if kind.category not in CATEGORIES or kind.source not in SOURCES or kind.severity not in SEVERITIES:
            raise ValueError(f"catalogue: {kind.name} has an unknown category, source or severity")
        if kind.category == TECHNICAL and kind.severity != "low":
            raise ValueError(f"catalogue: technical type {kind.name} must be low severity")
        for field in kind.fields:
            if field.kind not in KINDS:
                raise ValueError(f"catalogue: {kind.name}.{field.name} has an unknown kind")
            if field.kind in (NUMBER, NUMBERS) and (field.low is None or field.high is None):
                raise ValueError(f"catalogue: {kind.name}.{field.name} needs a range")
            if field.kind == NUMBER and ranges.setdefault(field.name, (field.low, field.high)) != (
                field.low,
                field.high,
            ):
                raise ValueError(f"catalogue: field {field.name} has two different ranges")


_check()
