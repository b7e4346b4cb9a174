"""schemathesis against /api/schema/: every operation, as a student and as a proctor.

Generated requests (schema-valid and schema-violating) go through Django's WSGI handler in this
process, on the test database. Every response must be a non-5xx that the schema describes: status
code, content type and body (the `{"message","data"}` / `{"error","details"}` envelope).

The example count is bounded for CI; `FUZZ_EXAMPLES=500 pytest tests/security/test_rest_fuzz.py`
runs a longer search (docs/operations.md, Security).
"""

from __future__ import annotations

import os
from collections import Counter

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.core.failures import FailureGroup

from accounts.services import tokens_issue
from exams.services import session_start
from scoring.services import baseline_add_sample
from tests.factories import ProctorFactory, StudentFactory
from tests.monitoring.conftest import make_exam

# ~1,200 generated requests per role: ~25 s on an idle machine, several times that on a busy one,
# where the default 120 s timeout fired inside Hypothesis and surfaced as a FlakyFailure.
pytestmark = [pytest.mark.django_db, pytest.mark.slow, pytest.mark.timeout(600)]

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "25"))
# e.g. FUZZ_ONLY="/answers" to search one operation harder.
ONLY = os.environ.get("FUZZ_ONLY", "")
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture
def wsgi_app():
    """Django's WSGI handler, minus the per-request connection closing that would end the test's transaction."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield get_wsgi_application()
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def world(settings):
    """A proctor, a student with a baseline, an active exam and the student's open session."""
    # Argon2 would make each generated login and register cost ~50 ms; the hasher is not under test here.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    proctor = ProctorFactory()
    student = StudentFactory()
    exam = make_exam(proctor)
    session = session_start(exam=exam, user=student)
    for wpm in (40, 42, 38):
        baseline_add_sample(user=student, sample={"typing_speed_wpm": wpm, "mouse_speed_pxs": 400})
    return {
        "users": {"student": student, "proctor": proctor},
        "ids": {"exam_id": exam.pk, "session_id": session.pk, "user_id": student.pk},
    }


def fuzz(schema, *, headers: dict, ids: dict) -> tuple[Counter, list[str]]:
    """Run every operation's strategies; return status counts and the failures found."""
    statuses: Counter = Counter()
    failures: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()
        if ONLY not in operation.label:
            continue
        known = {p.name: ids[p.name] for p in operation.path_parameters if p.name in ids}
        strategies = [
            operation.as_strategy(GenerationMode.POSITIVE),
            operation.as_strategy(GenerationMode.NEGATIVE),
        ]
        if known:
            # Random ids are almost always unknown (404); aim half the cases at seeded rows.
            strategies.append(operation.as_strategy(GenerationMode.POSITIVE, path_parameters=known))

        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=st.one_of(strategies))
        def run(case) -> None:
            response = case.call(headers=headers)
            statuses[response.status_code] += 1
            case.validate_response(response, checks=CHECKS)

        try:
            run()
        except FailureGroup as exc:
            failures.append(f"{operation.label}: {exc}")
        except Exception as exc:
            inner = "".join(f"\n  {type(e).__name__}: {e}" for e in getattr(exc, "exceptions", ()))
            failures.append(f"{operation.label}: {type(exc).__name__}: {exc}{inner}")
    return statuses, failures


@pytest.mark.parametrize("role", ["student", "proctor"])
def test_every_operation_answers_within_its_schema_and_never_5xx(wsgi_app, world, role):
    schema = schemathesis.openapi.from_wsgi("/api/schema/", wsgi_app)
    token = tokens_issue(user=world["users"][role])["token"]

    statuses, failures = fuzz(schema, headers={"Authorization": f"Bearer {token}"}, ids=world["ids"])

    print(f"\n{role}: {sum(statuses.values())} requests, statuses {dict(sorted(statuses.items()))}")
    assert not failures, "\n\n".join(failures)
    assert not any(code >= 500 for code in statuses)
    # The seeded ids make success paths reachable: the run is not only 4xx noise.
    assert sum(n for code, n in statuses.items() if code < 300) > 0
