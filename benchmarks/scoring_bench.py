"""Scoring benchmark: per-event latency, detector timings and throughput. No database involved.

Run: .venv/bin/python benchmarks/scoring_bench.py [--events 100000]
Targets (issue 4): per-event fold+score p99 < 1 ms; aggregation+scoring >= 50,000 events/s.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "exampulse.settings")

import django

django.setup()

from scoring import engine  # noqa: E402
from scoring.aggregation import fold, fold_all, signals_from  # noqa: E402
from scoring.anomaly import SESSION_FEATURES, BaselineDetector  # noqa: E402
from scoring.population import train, vector_from  # noqa: E402
from scoring.session import ScoringContext, ScoringEvent, ScoringState, session_score  # noqa: E402
from scoring.synthetic import event_stream, keystroke_dataset, random_profile  # noqa: E402
from scoring.types import BaselineStats, Policy  # noqa: E402


def sessions_of_events(total: int, seed: int = 1) -> list[list[tuple[str, dict]]]:
    """Synthetic sessions (about 15 % cheating-like) until `total` events are produced."""
    rng = np.random.default_rng(seed)
    sessions, count = [], 0
    while count < total:
        events = list(event_stream(rng, profile=random_profile(rng), cheating=rng.random() < 0.15, questions=20))
        events = events[: total - count]
        sessions.append(events)
        count += len(events)
    return sessions


def context(with_population: bool) -> ScoringContext:
    rng = np.random.default_rng(2)
    profile = random_profile(rng)
    samples = np.array([[profile[f] * rng.lognormal(0, 0.1) for f in SESSION_FEATURES] for _ in range(5)])
    population = None
    if with_population:
        rows = [vector_from(signals_from(fold_all(s))) for s in sessions_of_events(20_000, seed=3) if len(s) > 5]
        population = train(np.array(rows, dtype=float))
    return ScoringContext(
        policy=Policy(sensitivity="medium"),
        baseline=BaselineStats(
            typing_speed_wpm=profile["typing_speed_wpm"],
            mouse_speed_pxs=profile["mouse_speed_pxs"],
            avg_question_time_sec=profile["avg_question_time_sec"],
            sample_count=5,
        ),
        detector=BaselineDetector().fit(samples),
        population=population,
    )


def per_event_latency(sessions, ctx: ScoringContext) -> tuple[float, float, int]:
    """Live path per event: fold into a copy of the state, then session_score (rules + detector [+ population])."""
    timings = []
    for events in sessions:
        state: dict = {}
        for event_type, data in events:
            start = time.perf_counter_ns()
            state = fold(state, event_type, data)
            session_score(context=ctx, behaviour=state)
            timings.append(time.perf_counter_ns() - start)
    timings.sort()
    p50 = timings[len(timings) // 2] / 1e6
    p99 = timings[int(len(timings) * 0.99)] / 1e6
    return p50, p99, len(timings)


def throughput_live(sessions, ctx: ScoringContext) -> float:
    n = sum(len(s) for s in sessions)
    start = time.perf_counter()
    for events in sessions:
        state: dict = {}
        for event_type, data in events:
            state = fold(state, event_type, data)
            session_score(context=ctx, behaviour=state)
    return n / (time.perf_counter() - start)


def throughput_score_event(sessions, ctx: ScoringContext, *, population_every: int) -> float:
    """The live path as ingestion makes it: one `score_event` per event (severity, fold, score, alert edges)."""
    n = sum(len(s) for s in sessions)
    start = time.perf_counter()
    for events in sessions:
        state = ScoringState()
        for event_type, data in events:
            state = ctx.score_event(state, ScoringEvent(event_type, data), population_every=population_every).state
    return n / (time.perf_counter() - start)


def throughput_bulk(sessions, ctx: ScoringContext) -> float:
    n = sum(len(s) for s in sessions)
    start = time.perf_counter()
    for events in sessions:
        session_score(context=ctx, behaviour=fold_all(events))
    return n / (time.perf_counter() - start)


def throughput_rules_only(sessions) -> float:
    n = sum(len(s) for s in sessions)
    baseline = BaselineStats(typing_speed_wpm=45.0, mouse_speed_pxs=300.0, avg_question_time_sec=60.0, sample_count=5)
    policy = Policy()
    start = time.perf_counter()
    for events in sessions:
        state: dict = {}
        for event_type, data in events:
            state = fold(state, event_type, data)
            engine.score(signals=signals_from(state), baseline=baseline, policy=policy)
    return n / (time.perf_counter() - start)


def detector_timings() -> tuple[float, float]:
    data = keystroke_dataset(subjects=2, repetitions=400, seed=5)
    train_x, test_x = data[0, :200], data[1, :200]
    fits, scores = [], []
    for _ in range(50):
        start = time.perf_counter()
        detector = BaselineDetector().fit(train_x)
        fits.append(time.perf_counter() - start)
        start = time.perf_counter()
        detector.score(test_x)
        scores.append(time.perf_counter() - start)
    return statistics.median(fits) * 1e3, statistics.median(scores) * 1e3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=100_000)
    args = parser.parse_args()

    sessions = sessions_of_events(args.events)
    latency_sessions = sessions_of_events(20_000, seed=9)
    plain, full = context(False), context(True)
    print(f"ExamPulse scoring benchmark (Python {sys.version.split()[0]}, numpy {np.__version__}); no database")
    p50, p99, n = per_event_latency(latency_sessions, plain)
    print(f"per-event fold+score (rules + per-student detector), {n} events: p50 {p50:.3f} ms, p99 {p99:.3f} ms")
    p50, p99, n = per_event_latency(latency_sessions, full)
    print(f"per-event fold+score (+ population IsolationForest), {n} events: p50 {p50:.3f} ms, p99 {p99:.3f} ms")
    fit_ms, score_ms = detector_timings()
    print(f"BaselineDetector on 200 samples x 31 features: fit {fit_ms:.3f} ms, score 200 rows {score_ms:.3f} ms")
    total = sum(len(s) for s in sessions)
    print(f"throughput over {total} events in {len(sessions)} sessions:")
    print(f"  live path, rules only (fold + engine.score per event): {throughput_rules_only(sessions):,.0f} events/s")
    print(f"  live path, rules + detector (fold + session_score): {throughput_live(sessions, plain):,.0f} events/s")
    print(f"  live path, rules + detector + population: {throughput_live(sessions, full):,.0f} events/s")
    every = throughput_score_event(sessions, full, population_every=10)
    print(f"  live path as ingestion calls it (score_event, population every 10th): {every:,.0f} events/s")
    print(f"  rescore path (fold_all, one score per session): {throughput_bulk(sessions, full):,.0f} events/s")


if __name__ == "__main__":
    main()
