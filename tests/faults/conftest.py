"""Fault tests: real daphne, PostgreSQL and Redis processes on loopback, stopped and restarted on purpose.

They never touch the shared services: PostgreSQL and Redis here are private instances on free
ports (tests.support.faults). They run only when asked (`EXAMPULSE_FAULT_TESTS=1`, as .ci/run
does); when asked and a service cannot start, they fail rather than skip.
"""

from __future__ import annotations

import os
import uuid

import pytest

from harness.servers import manage
from tests.support.faults import PrivatePostgres, PrivateRedis

TEMPLATE_DB = "exampulse_seeded"


def pytest_collection_modifyitems(config, items):
    if os.environ.get("EXAMPULSE_FAULT_TESTS") == "1":
        return
    # Deselected, not skipped: the normal run does not ask for them; .ci/run asks in its own step.
    selected = [item for item in items if "faults" not in item.keywords]
    deselected = [item for item in items if "faults" in item.keywords]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = selected


@pytest.fixture(scope="session")
def private_postgres():
    """One private cluster for the run, holding a migrated and seeded template database."""
    cluster = PrivatePostgres()
    try:
        cluster.start()
        url = cluster.create_database(TEMPLATE_DB)
        manage("migrate", "--noinput", database_url=url)
        manage("seed_demo", database_url=url)
        yield cluster
    finally:
        cluster.close()


@pytest.fixture
def database_url(private_postgres) -> str:
    """A fresh copy of the seeded database for this test."""
    if private_postgres.process is None:  # an earlier test stopped it and failed before restarting
        private_postgres.start()
    return private_postgres.create_database(f"fault_{uuid.uuid4().hex[:10]}", template=TEMPLATE_DB)


@pytest.fixture
def private_redis():
    redis = PrivateRedis()
    redis.start()
    yield redis
    redis.stop()
