"""Synthetic behaviour for evaluation, benchmarks and demo data. Seeded numpy only; no real person's data.

`keystroke_dataset` mimics the shape of the CMU keystroke benchmark (Killourhy & Maxion 2009: 51
subjects typing one password, 31 features = 11 hold times, 10 keydown-keydown and 10 keyup-keydown
latencies). Each subject has a personal rhythm drawn around a population profile; each repetition
adds a per-repetition speed factor shared by all latencies, per-key log-normal noise, and now and
then a hesitation (one latency 2 to 5 times longer) — the structure that makes real keystroke data hard.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from scoring.anomaly import SESSION_FEATURES

KEYS = 11


def keystroke_dataset(*, subjects: int = 51, repetitions: int = 400, seed: int = 2009) -> np.ndarray:
    """Array (subjects, repetitions, 31) of hold, keydown-keydown and keyup-keydown times in ms."""
    rng = np.random.default_rng(seed)
    pop_hold = rng.uniform(70, 120, KEYS)
    pop_dd = rng.uniform(120, 350, KEYS - 1)
    data = np.empty((subjects, repetitions, 3 * KEYS - 2))
    for s in range(subjects):
        hold_profile = pop_hold * rng.lognormal(0, 0.2, KEYS)
        dd_profile = pop_dd * rng.lognormal(0, 0.3, KEYS - 1)
        hold_cv, dd_cv = rng.uniform(0.1, 0.2), rng.uniform(0.15, 0.3)
        speed = rng.lognormal(0, 0.1, (repetitions, 1))
        hold = hold_profile * rng.lognormal(0, hold_cv, (repetitions, KEYS))
        dd = dd_profile * speed * rng.lognormal(0, dd_cv, (repetitions, KEYS - 1))
        hesitant = rng.random(repetitions) < 0.05
        columns = rng.integers(0, KEYS - 1, repetitions)
        dd[hesitant, columns[hesitant]] *= rng.uniform(2, 5, hesitant.sum())
        ud = dd - hold[:, :-1]
        data[s] = np.concatenate([hold, dd, ud], axis=1)
    return data


def session_vectors(*, students: int = 60, sessions: int = 30, seed: int = 7) -> tuple[np.ndarray, np.ndarray]:
    """(genuine, other) arrays (students, sessions, 5) of session-level features in SESSION_FEATURES order.

    `other[i]` are sessions of student i's account behaving like someone else (another person
    typing, or answers arriving without reading): the anomaly detector should flag them.
    """
    rng = np.random.default_rng(seed)

    def profiles(n: int) -> np.ndarray:
        return np.column_stack(
            [
                rng.uniform(25, 75, n),  # wpm
                rng.uniform(70, 140, n),  # key hold ms
                rng.uniform(120, 300, n),  # inter-key latency ms
                rng.uniform(150, 600, n),  # mouse px/s
                rng.uniform(30, 120, n),  # seconds per question
            ]
        )

    own = profiles(students)
    strangers = profiles(students)
    noise = np.array([0.12, 0.1, 0.12, 0.25, 0.3])
    genuine = own[:, None, :] * rng.lognormal(0, noise, (students, sessions, 5))
    other = strangers[:, None, :] * rng.lognormal(0, noise, (students, sessions, 5))
    return genuine, other


def event_stream(
    rng: np.random.Generator, *, profile: dict[str, float], cheating: bool = False, questions: int = 10
) -> Iterator[tuple[str, dict[str, Any]]]:
    """Plausible (event_type, payload) pairs for one exam session of a student with `profile`.

    `profile` holds SESSION_FEATURES values. A cheating session switches tabs, stays away, pastes
    and answers far faster than the profile.
    """
    speed_up = 0.15 if cheating else 1.0
    for q in range(1, questions + 1):
        for _ in range(int(rng.integers(1, 4))):
            yield (
                "typing_sample",
                {
                    "wpm": round(float(profile["typing_speed_wpm"] * rng.lognormal(0, 0.12)), 2),
                    "hold_ms_mean": round(float(profile["key_hold_ms"] * rng.lognormal(0, 0.1)), 2),
                    "latency_ms_mean": round(float(profile["key_latency_ms"] * rng.lognormal(0, 0.12)), 2),
                },
            )
            yield ("mouse_sample", {"speed_pxs": round(float(profile["mouse_speed_pxs"] * rng.lognormal(0, 0.25)), 1)})
        if cheating and rng.random() < 0.8:
            yield ("tab_switch", {})
            yield ("window_blur", {})
            yield ("window_focus", {"blur_duration_ms": int(rng.integers(8000, 40000))})
            if rng.random() < 0.5:
                yield ("paste", {})
        elif rng.random() < 0.05:
            yield ("window_blur", {})
            yield ("window_focus", {"blur_duration_ms": int(rng.integers(500, 4000))})
        spent = profile["avg_question_time_sec"] * speed_up * rng.lognormal(0, 0.3)
        yield ("question_answered", {"question_id": f"q{q}", "time_spent_sec": round(float(spent), 1)})


def random_profile(rng: np.random.Generator) -> dict[str, float]:
    """A plausible student profile (SESSION_FEATURES -> value)."""
    low = np.array([25, 70, 120, 150, 30])
    high = np.array([75, 140, 300, 600, 120])
    return dict(zip(SESSION_FEATURES, (rng.uniform(low, high)).tolist(), strict=True))
