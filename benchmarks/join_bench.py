"""The CPU one socket join costs the database side of the server, by the size of its batch.

A socket's handshake (token check and user lookup), its join (session read, presence, the
`reconnected` event, the row the proctors are shown) and its close each run as a batch
(exampulse.platform.db.HopBatcher). This measures the thread CPU per join of those three calls
against the configured database, for batches of 1, 5 and 10 students coming back from a short drop,
so the effect of batch size (WS_JOIN_LINGER_MS) and of each query shows without sockets or a server.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/loadtest .venv/bin/python -m benchmarks.join_bench

It creates its own students and exam (tagged with a random run id) and deletes them afterwards.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "exampulse.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db import transaction  # noqa: E402
from rest_framework_simplejwt.tokens import AccessToken  # noqa: E402

from accounts.models import Role, User  # noqa: E402
from accounts.ws_auth import users_from_tokens  # noqa: E402
from exams.models import Exam  # noqa: E402
from exams.sessions import session_start  # noqa: E402
from monitoring.live import usecases as live  # noqa: E402


def thread_cpu(call) -> tuple[float, object]:
    started = time.thread_time()
    result = call()
    return time.thread_time() - started, result


def measure(tokens: list[str], exam_id: int, batch: int, rounds: int, run_id: str) -> dict[str, float]:
    """Median CPU ms per join of each part, over `rounds` leave-and-join cycles of every student."""
    parts: dict[str, list[float]] = {"handshake": [], "join": [], "close": []}
    students = len(tokens)
    session_ids: dict[int, int | None] = {}
    for cycle in range(rounds):
        channels = [f"specific.bench!{run_id}-{cycle}-{index}" for index in range(students)]
        for start in range(0, students, batch):
            chunk = range(start, min(students, start + batch))
            cpu, users = thread_cpu(lambda chunk=chunk: users_from_tokens([tokens[i] for i in chunk]))
            parts["handshake"].append(cpu / len(chunk))
            requests = [live.JoinRequest(exam_id, users[k], channels[i]) for k, i in enumerate(chunk)]

            def join(requests=requests):
                with transaction.atomic():
                    return live.students_join(requests)

            cpu, outcomes = thread_cpu(join)
            failed = [outcome for outcome in outcomes if isinstance(outcome, Exception)]
            if failed:
                raise SystemExit(f"a join failed: {failed[0]!r}")
            parts["join"].append(cpu / len(chunk))
            session_ids.update({i: outcome.session_id for i, outcome in zip(chunk, outcomes, strict=True)})
        for start in range(0, students, batch):
            chunk = range(start, min(students, start + batch))
            # With the session: the close records `disconnected`, so the next join is a return.
            requests = [live.CloseRequest(channels[i], session_ids[i]) for i in chunk]

            def close(requests=requests):
                with transaction.atomic():
                    return live.sockets_close(requests)

            cpu, _ = thread_cpu(close)
            parts["close"].append(cpu / len(chunk))
    # The first cycle warms caches (snapshots, the population model): medians of the rest.
    skip = len(parts["join"]) // rounds
    return {name: 1000 * statistics.median(values[skip:] or values) for name, values in parts.items()}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--students", type=int, default=60)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--batches", type=lambda s: [int(x) for x in s.split(",")], default=[1, 5, 10])
    args = parser.parse_args(argv)
    settings.DEBUG = False  # as in production: no query log kept per statement

    run_id = uuid.uuid4().hex[:8]
    proctor = User.objects.create(email=f"bench-{run_id}-p@example.org", name="Bench proctor", role=Role.PROCTOR)
    exam = Exam.objects.create(name=f"join bench {run_id}", duration_minutes=120, status="active", created_by=proctor)
    students = [
        User.objects.create(
            email=f"bench-{run_id}-{index}@example.org", name=f"Student {index}", role=Role.STUDENT, roll_number=""
        )
        for index in range(args.students)
    ]
    try:
        for student in students:
            session_start(exam=exam, user=student)
        tokens = [str(AccessToken.for_user(student)) for student in students]
        print(f"{args.students} students, {args.rounds} leave-and-join cycles each; CPU ms per join (median)")
        print(f"{'batch':>5}  {'handshake':>9}  {'join':>7}  {'close':>7}  {'total':>7}")
        for batch in args.batches:
            parts = measure(tokens, exam.pk, batch, args.rounds, run_id)
            total = sum(parts.values())
            print(
                f"{batch:>5}  {parts['handshake']:>9.3f}  {parts['join']:>7.3f}  {parts['close']:>7.3f}  {total:>7.3f}"
            )
    finally:
        exam.delete()
        User.objects.filter(email__startswith=f"bench-{run_id}-").delete()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
