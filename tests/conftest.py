"""Shared fixtures: users by role, JWT-authenticated API clients, and service requirements."""

from __future__ import annotations

import os

import pytest
from django.db import connection, connections
from rest_framework.test import APIClient

from accounts.services import tokens_issue
from exampulse.db import close_hop_threads
from tests.factories import ProctorFactory, StudentFactory

REQUIRE_SERVICES = os.environ.get("EXAMPULSE_REQUIRE_SERVICES") == "1"


@pytest.fixture(scope="session", autouse=True)
def _close_connection_pools(django_db_setup, django_db_blocker):
    """Close every connection before the test database is dropped: PostgreSQL refuses to drop a
    database someone is connected to ("database ... is being accessed by other users").

    First the socket hops' worker threads (exampulse.db): Channels' test communicators turn the
    close after each hop into a no-op, so each thread still holds a connection checked out of the
    pool, and closing the pool does not close those. Then the pools themselves.
    """
    yield
    with django_db_blocker.unblock():
        close_hop_threads()
        for connection_ in connections.all():
            if getattr(connection_, "pool", None) is not None:
                connection_.close_pool()


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Throttle counters live in the cache; no test should inherit another's.

    Login lockouts (axes) live in the database instead, so each test's rollback (or flush, for
    transactional tests) resets them along with the users they locked.
    """
    from django.core.cache import cache

    from monitoring.ingest.snapshots import store as session_snapshots

    # Session snapshots too: a test's rows (and their ids) are gone after it.
    cache.clear()
    session_snapshots.clear()
    yield
    cache.clear()
    session_snapshots.clear()


@pytest.fixture
def student(db):
    return StudentFactory()


@pytest.fixture
def other_student(db):
    return StudentFactory()


@pytest.fixture
def proctor(db):
    return ProctorFactory()


@pytest.fixture
def anon_client() -> APIClient:
    return APIClient()


@pytest.fixture
def api_client():
    """`api_client(user)` returns an APIClient carrying that user's access JWT (None: anonymous)."""

    def make(user=None) -> APIClient:
        client = APIClient()
        if user is not None:
            client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens_issue(user=user)['token']}")
        return client

    return make


@pytest.fixture
def requires_postgres(db):
    """Skip on SQLite in the default run; fail when CI said PostgreSQL must be there."""
    if connection.vendor != "postgresql":
        if REQUIRE_SERVICES:
            pytest.fail("EXAMPULSE_REQUIRE_SERVICES=1 but the database is not PostgreSQL (check DATABASE_URL)")
        pytest.skip("needs PostgreSQL: set DATABASE_URL")


@pytest.fixture
def requires_redis(settings):
    """Skip without REDIS_URL in the default run; fail when CI said Redis must be there."""
    if not settings.REDIS_URL:
        if REQUIRE_SERVICES:
            pytest.fail("EXAMPULSE_REQUIRE_SERVICES=1 but REDIS_URL is not set")
        pytest.skip("needs Redis: set REDIS_URL")
    return settings.REDIS_URL
