"""Fold behavioural events into a session's aggregate state, one at a time (live) or in bulk (rescore).

The state is a flat JSON object stored in `ExamSession.behaviour`. Every sum is kept as an integer
count of thousandths (milli-units), so sums are exact, independent of event order and of JSON or
jsonb round trips: the live path and the rescore path reach the same state and the same score.

Which types are folded, and each payload field's meaning and range, are declared once in
`scoring.catalogue`. What the fold does with them:

- `typing_sample`: `wpm`, `hold_ms_mean` and `latency_ms_mean` are averaged, each optional and
  counted on its own.
- `mouse_sample`: `speed_pxs` is averaged.
- `question_answered`: `time_spent_sec` per `question_id` (at most 64 chars); the latest value per
  question counts, so re-answering replaces, never double-counts.
- `window_focus`: `blur_duration_ms` (how long the window was away) is summed.
- `tab_switch` and every other scored type are counted in `counts` for review and the population
  model; only tab switches enter the rule formula.

A value that is missing, not a number (booleans and numeric strings included), not finite or out of
range is ignored. Technical events (disconnects, reconnects) must not be folded: callers skip them.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from scoring import catalogue
from scoring.types import Signals

STATE_VERSION = 1
MAX_QUESTIONS = 1000
MAX_QUESTION_ID_LENGTH = 64
# The types _apply reads fields of; every other scored type is counted in `counts`.
SAMPLED_TYPES = frozenset({"typing_sample", "mouse_sample", "question_answered", "window_focus"})
SCORED_TYPES = catalogue.SCORED_TYPES

# Inclusive sane ranges; a value outside is a client bug or a forgery and is ignored.
RANGES = catalogue.scored_ranges()


def empty_state() -> dict[str, Any]:
    """A fresh aggregate state: no events seen."""
    return {
        "v": STATE_VERSION,
        "events": 0,
        "tab_switches": 0,
        "blur_ms": 0,
        "focus_returns": 0,
        "typing_n": 0,
        "wpm_milli": 0,
        "hold_n": 0,
        "hold_milli": 0,
        "latency_n": 0,
        "latency_milli": 0,
        "mouse_n": 0,
        "speed_milli": 0,
        "answers": {},
        "counts": {},
    }


def _number(data: dict, key: str) -> float | None:
    value = data.get(key)
    # bool is an int subclass; `true` is not a speed.
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    low, high = RANGES[key]
    if not math.isfinite(value) or not low <= value <= high:
        return None
    return float(value)


def measured(data: Any, key: str) -> float | None:
    """The payload's `key` as the fold reads it: a finite number within the catalogue's range, else None."""
    return _number(data, key) if isinstance(data, dict) else None


def _milli(value: float) -> int:
    return round(value * 1000)


def _apply(state: dict[str, Any], event_type: str, data: Any) -> None:
    """Fold one event into `state` in place; both public paths run exactly this."""
    if event_type not in SCORED_TYPES:
        return
    if not isinstance(data, dict):
        data = {}
    state["events"] += 1
    if event_type == "typing_sample":
        wpm = _number(data, "wpm")
        if wpm is not None:
            state["typing_n"] += 1
            state["wpm_milli"] += _milli(wpm)
        hold = _number(data, "hold_ms_mean")
        if hold is not None:
            state["hold_n"] += 1
            state["hold_milli"] += _milli(hold)
        latency = _number(data, "latency_ms_mean")
        if latency is not None:
            state["latency_n"] += 1
            state["latency_milli"] += _milli(latency)
    elif event_type == "mouse_sample":
        speed = _number(data, "speed_pxs")
        if speed is not None:
            state["mouse_n"] += 1
            state["speed_milli"] += _milli(speed)
    elif event_type == "question_answered":
        qid = data.get("question_id")
        spent = _number(data, "time_spent_sec")
        if isinstance(qid, bool) or not isinstance(qid, int | str) or spent is None:
            return
        key = str(qid)
        answers = state["answers"]
        if len(key) > MAX_QUESTION_ID_LENGTH or (key not in answers and len(answers) >= MAX_QUESTIONS):
            return
        answers[key] = _milli(spent)
    elif event_type == "window_focus":
        state["focus_returns"] += 1
        blur = _number(data, "blur_duration_ms")
        if blur is not None:
            state["blur_ms"] += round(blur)
    else:
        if event_type == "tab_switch":
            state["tab_switches"] += 1
        counts = state["counts"]
        counts[event_type] = counts.get(event_type, 0) + 1


def _copy(state: dict[str, Any] | None) -> dict[str, Any]:
    fresh = empty_state()
    if state:
        fresh.update(state)
        fresh["answers"] = dict(fresh["answers"])
        fresh["counts"] = dict(fresh["counts"])
    return fresh


def fold(state: dict[str, Any] | None, event_type: str, data: Any) -> dict[str, Any]:
    """Return a new state with one event folded in; the input state is left untouched."""
    new = _copy(state)
    _apply(new, event_type, data)
    return new


def fold_all(events: Iterable[tuple[str, Any]], state: dict[str, Any] | None = None) -> dict[str, Any]:
    """Fold (event_type, data) pairs in order; equal to folding them one by one with `fold`."""
    new = _copy(state)
    for event_type, data in events:
        _apply(new, event_type, data)
    return new


def _mean(milli_total: int, count: int) -> float | None:
    return milli_total / (count * 1000) if count else None


def signals_from(state: dict[str, Any] | None) -> Signals:
    """Read the engine's inputs from an aggregate state (an empty or missing state means no events)."""
    s = state if state and state.get("v") == STATE_VERSION else _copy(state)
    answers = s["answers"]
    return Signals(
        wpm=_mean(s["wpm_milli"], s["typing_n"]),
        mouse_speed_pxs=_mean(s["speed_milli"], s["mouse_n"]),
        avg_question_time_sec=_mean(sum(answers.values()), len(answers)),
        tab_switches=s["tab_switches"],
        blur_seconds=s["blur_ms"] / 1000,
        key_hold_ms=_mean(s["hold_milli"], s["hold_n"]),
        key_latency_ms=_mean(s["latency_milli"], s["latency_n"]),
        typing_samples=s["typing_n"],
        mouse_samples=s["mouse_n"],
        questions_answered=len(answers),
        focus_returns=s["focus_returns"],
        other_counts=dict(s["counts"]),
    )
