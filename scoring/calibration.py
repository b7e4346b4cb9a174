"""A calibration sitting's measurements cut into baseline samples. Pure: no Django.

One sitting makes a baseline ready. Each `typing_sample` and `mouse_sample` event is the client's
measure over one sampling interval (a window), and each answered question gives one question time
(the latest per question, as the risk fold counts it). Per measure, the windows are cut in order
into `PARTS` consecutive parts of near-equal size, and each part's mean is one sample's value. So
one sitting yields up to three samples, and their spread is the student's own variation across the
sitting: what the per-student detector sets its scale from. One sample per sitting (the mean of
everything) would leave the detector only its floor (10 % of the median), so any ordinary day
slower or faster than the calibration would look anomalous.

A measure with fewer windows than parts fills the first parts only, so a part may lack a measure:
the detector skips missing values feature by feature, and the rules read each mean over the samples
that carried it. Tab switches are not a per-window measure: each sample carries the sitting's count.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from scoring.aggregation import measured

PARTS = 3
# (event type, payload key) -> the sample field it measures.
WINDOW_MEASURES = {
    ("typing_sample", "wpm"): "typing_speed_wpm",
    ("typing_sample", "hold_ms_mean"): "key_hold_ms",
    ("typing_sample", "latency_ms_mean"): "key_latency_ms",
    ("mouse_sample", "speed_pxs"): "mouse_speed_pxs",
}


def _parts(values: list[float], parts: int) -> list[list[float]]:
    """`values` cut in order into `parts` consecutive runs whose sizes differ by at most one."""
    size, extra = divmod(len(values), parts)
    runs, start = [], 0
    for index in range(parts):
        end = start + size + (1 if index < extra else 0)
        runs.append(values[start:end])
        start = end
    return runs


def calibration_samples(events: Iterable[tuple[str, Any]], *, parts: int = PARTS) -> list[dict[str, float]]:
    """Up to `parts` baseline samples from a calibration sitting's scored events, in order.

    `events` are (event_type, payload) pairs in the order they were stored. Nothing measured: [].
    """
    windows: dict[str, list[float]] = {field: [] for field in WINDOW_MEASURES.values()}
    answered: dict[str, float] = {}
    tab_switches = 0
    for event_type, data in events:
        if event_type == "tab_switch":
            tab_switches += 1
        elif event_type == "question_answered" and isinstance(data, dict):
            qid, spent = data.get("question_id"), measured(data, "time_spent_sec")
            if isinstance(qid, int | str) and not isinstance(qid, bool) and spent is not None:
                answered[str(qid)] = spent
        for (kind, key), field in WINDOW_MEASURES.items():
            if event_type == kind and (value := measured(data, key)) is not None:
                windows[field].append(value)
    windows["avg_question_time_sec"] = list(answered.values())
    samples: list[dict[str, float]] = [{} for _ in range(parts)]
    for field, values in windows.items():
        for index, run in enumerate(_parts(values, parts)):
            if run:
                samples[index][field] = sum(run) / len(run)
    found = [sample for sample in samples if sample]
    for sample in found:
        sample["tab_switch_rate"] = float(tab_switches)
    return found
